//! The auditors in the browser: the verification as a job that names a hand-edited event, the
//! event log filtered and paged, the login log; for the auditor role only.

use cantine::domain::account::Role;
use cantine::web::pages::session::csrf_token_for_session;
use reqwest::StatusCode;

use crate::helpers::*;

async fn start_verification(app: &TestApp, auditor: &str) {
    let csrf = csrf_token_for_session(&app.state, auditor);
    let response = cookie_form(
        app,
        "/gestion/audit/verification",
        auditor,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

/// The auditors' home once the running verification has finished.
async fn finished_verification(app: &TestApp, auditor: &str) -> String {
    for _ in 0..600 {
        let (status, page) = cookie_page(app, "/gestion/audit", auditor).await;
        assert_eq!(status, 200);
        if page.contains("Lancer une vérification") {
            return page;
        }
        assert!(
            page.contains("Étape"),
            "a running verification says its step: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the verification did not finish in a minute");
}

#[tokio::test]
async fn the_verification_runs_as_a_job_and_names_the_hand_edited_event() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Léa").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    all_fresh(&app).await;
    let auditor = app.staff_token(Role::Auditor).await;

    let (_, first) = cookie_page(&app, "/gestion/audit", &auditor).await;
    assert!(
        first.contains("Aucune vérification n&#39;a encore été lancée")
            || first.contains("Aucune vérification n'a encore été lancée"),
        "{first}"
    );
    start_verification(&app, &auditor).await;
    let intact = finished_verification(&app, &auditor).await;
    assert!(intact.contains("Journal intact"), "{intact}");

    // Someone edits the confirmation's total in the database, behind the service's back.
    let (position,): (i64,) = sqlx::query_as(
        "SELECT global_position FROM events WHERE aggregate_id = $1 AND event_type = 'ReservationConfirmed'",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE events SET payload = jsonb_set(payload, '{ReservationConfirmed,total}', '\"0.01\"')
          WHERE global_position = $1",
    )
    .bind(position)
    .execute(&app.pool)
    .await
    .unwrap();
    start_verification(&app, &auditor).await;
    let tampered = finished_verification(&app, &auditor).await;
    assert!(
        tampered.contains("ne correspond plus") && tampered.contains("Événements modifiés"),
        "{tampered}"
    );
    assert!(
        tampered.contains(&format!("apres={}\">{position}</a>", position - 1)),
        "the edited event's position links to it: {tampered}"
    );
    // The link leads to the event, with its payload as it now stands.
    let (_, event) = cookie_page(
        &app,
        &format!("/gestion/audit/evenements?apres={}", position - 1),
        &auditor,
    )
    .await;
    assert!(event.contains("ReservationConfirmed") && event.contains("0.01"));

    // Another role is refused the pages and the button.
    let (status, _) = cookie_page(&app, "/gestion/audit", &canteen.admin).await;
    assert_eq!(status, 403);
    let csrf = csrf_token_for_session(&app.state, &canteen.admin);
    let refused = cookie_form(
        &app,
        "/gestion/audit/verification",
        &canteen.admin,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn the_event_log_is_filtered_and_paged_and_the_login_log_listed() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "DUPONT", "Léa").await;
    let martin = family_with_child(&app, &canteen.admin, "MARTIN", "Noé").await;
    let days = [
        "2017-01-23",
        "2017-01-24",
        "2017-01-26",
        "2017-01-27",
        "2017-01-30",
        "2017-01-31",
        "2017-02-02",
        "2017-02-03",
    ];
    // 8 reservations of one day each, requested and confirmed: 16 events for the Dupont family.
    let mut dupont_ids = Vec::new();
    for day in days {
        dupont_ids.push(book_and_confirm(&app, &canteen, &dupont, &[day]).await);
    }
    for day in days {
        book_and_confirm(&app, &canteen, &martin, &[day]).await;
    }
    // 20 more: 52 events in all, more than a page of 50.
    let petit = family_with_child(&app, &canteen.admin, "PETIT", "Jules").await;
    for day in days.iter().chain(&["2017-02-06", "2017-02-07"]) {
        book_and_confirm(&app, &canteen, &petit, &[day]).await;
    }
    all_fresh(&app).await;
    let auditor = app.staff_token(Role::Auditor).await;

    // By family: the Dupont family's 16 events only.
    let (status, page) = cookie_page(
        &app,
        &format!("/gestion/audit/evenements?famille={}", dupont.id),
        &auditor,
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("16 événement(s)"), "{page}");
    assert!(page.contains(&dupont_ids[0]) && !page.contains("Noé"));
    assert!(page.contains("Empreinte de chaînage"));
    // By type and by reservation number: the first reservation's request.
    let (number,): (i64,) =
        sqlx::query_as("SELECT number FROM reservation_view WHERE id = $1::uuid")
            .bind(&dupont_ids[0])
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let (_, page) = cookie_page(
        &app,
        &format!("/gestion/audit/evenements?type=ReservationRequested&reservation={number:05}"),
        &auditor,
    )
    .await;
    assert!(page.contains("1 événement(s)"), "{page}");
    assert!(page.contains("ReservationRequested") && page.contains("Léa"));
    // Paged by 50: the 26 confirmations fit in one page.
    let (_, page) = cookie_page(
        &app,
        "/gestion/audit/evenements?type=ReservationConfirmed",
        &auditor,
    )
    .await;
    assert!(page.contains("26 événement(s)") && !page.contains("Page suivante"));
    // Events are filed by when they were recorded (the database's time, in Paris days).
    let (last_day,): (String,) = sqlx::query_as(
        "SELECT ((max(recorded_at) AT TIME ZONE 'Europe/Paris')::date)::text FROM events",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let (_, page) = cookie_page(
        &app,
        &format!("/gestion/audit/evenements?du={last_day}&au={last_day}&type=ReservationConfirmed"),
        &auditor,
    )
    .await;
    assert!(page.contains("26 événement(s)"), "{page}");
    let (_, page) = cookie_page(
        &app,
        &format!(
            "/gestion/audit/evenements?au={last_day}&du={last_day}&famille={}&type=Nothing",
            dupont.id
        ),
        &auditor,
    )
    .await;
    assert!(page.contains("Aucun événement ne correspond"), "{page}");
    let (_, page) = cookie_page(&app, "/gestion/audit/evenements?au=2017-01-01", &auditor).await;
    assert!(page.contains("Aucun événement ne correspond"), "{page}");
    let (_, page) = cookie_page(&app, "/gestion/audit/evenements?du=pas-une-date", &auditor).await;
    assert!(page.contains("date invalide"), "{page}");
    let (_, all) = cookie_page(&app, "/gestion/audit/evenements", &auditor).await;
    assert!(all.contains("50 événement(s)"), "a page of 50");
    let next = all
        .split("apres=")
        .last()
        .and_then(|rest| rest.split('"').next())
        .expect("the next page's link")
        .to_string();
    let (_, second) = cookie_page(
        &app,
        &format!("/gestion/audit/evenements?apres={next}"),
        &auditor,
    )
    .await;
    assert!(
        second.contains("2 événement(s)") && second.contains("← Début"),
        "{second}"
    );

    // The login log: newest first, paged. The clock moves an hour between failed logins (so
    // that their delays do not pile up) only now: moved earlier, it let an unpaid hold expire
    // while the event pages were read, and their count changed under the test.
    for n in 0..60 {
        app.login("personne", &format!("faux-{n}")).await;
        app.wait_seconds(3600);
    }
    let auditor = app.staff_token(Role::Auditor).await;
    let (status, logins) = cookie_page(&app, "/gestion/audit/connexions", &auditor).await;
    assert_eq!(status, 200);
    assert!(
        logins.contains("Identifiant inconnu") && logins.contains("✓ Connecté"),
        "{logins}"
    );
    assert!(logins.contains("Plus anciennes"), "{logins}");
    // The kitchen is refused.
    let kitchen = app.staff_token(Role::Kitchen).await;
    let (status, _) = cookie_page(&app, "/gestion/audit/evenements", &kitchen).await;
    assert_eq!(status, 403);
}
