//! The town's staff act for a family: bookings and cancellations through the family's own use
//! cases (same rules, same refusals), with the staff member as the events' actor; past the
//! family's cut-off, a cancellation needs a reason, which decides what the family gets back.

use serde_json::{json, Value};

use crate::helpers::*;

/// The actor and role in the metadata of a reservation's events, in order.
async fn actors(app: &TestApp, reservation_id: &str) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT event_type, metadata->>'actor', metadata->>'actor_role' FROM events
          WHERE aggregate_type = 'Reservation' AND aggregate_id = $1 ORDER BY sequence",
    )
    .bind(reservation_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn admin_id(app: &TestApp) -> String {
    let (id,): (String,) = sqlx::query_as("SELECT id::text FROM users WHERE role = 'admin'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    id
}

fn book_body(canteen: &Canteen, family: &Family, days: &[&str]) -> Value {
    json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": days})
}

#[tokio::test]
async fn the_desk_books_and_cancels_for_a_family_as_itself_under_the_familys_rules() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "Dupont", "Léa").await;
    let other = family_with_child(&app, &canteen.admin, "Martin", "Noé").await;
    let booked = app
        .post(
            &format!("/api/v1/admin/families/{}/reservations", family.id),
            &canteen.admin,
            book_body(&canteen, &family, &["2017-01-23", "2017-01-24"]),
        )
        .await;
    let booked = booked.assert_status(201);
    // Confirmed at once: a prepaid period's days await the family's payment.
    assert_eq!(booked["status"], "awaiting_payment");
    assert_eq!(booked["total"], "8.30");
    assert!(booked["pay_before"].is_string());
    let id = booked["id"].as_str().unwrap().to_string();
    let admin = admin_id(&app).await;
    assert_eq!(
        actors(&app, &id).await,
        vec![
            ("ReservationRequested".into(), admin.clone(), "admin".into()),
            ("ReservationConfirmed".into(), admin.clone(), "admin".into()),
        ]
    );
    // The family sees it and can pay it.
    let history = app.get("/api/v1/reservations", &family.token).await;
    assert!(history.assert_status(200).to_string().contains(&id));

    // The family's rules: one meal a day per child, the booking cut-off, a child of the family.
    app.post(
        &format!("/api/v1/admin/families/{}/reservations", family.id),
        &canteen.admin,
        book_body(&canteen, &family, &["2017-01-23"]),
    )
    .await
    .assert_problem(422, "already_booked");
    app.post(
        &format!("/api/v1/admin/families/{}/reservations", family.id),
        &canteen.admin,
        book_body(&canteen, &family, &["2017-01-16"]),
    )
    .await
    .assert_problem(422, "past_cutoff");
    let events = app.event_count().await;
    let not_theirs = app
        .post(
            &format!("/api/v1/admin/families/{}/reservations", family.id),
            &canteen.admin,
            book_body(&canteen, &other, &["2017-01-26"]),
        )
        .await;
    assert!(
        not_theirs.status == 404 || not_theirs.status == 422,
        "{}",
        not_theirs.body
    );
    assert_eq!(app.event_count().await, events, "nothing recorded");

    // A cancellation before the cut-off, as the family's, by the admin.
    let cancelled = app
        .post(
            &format!("/api/v1/admin/reservations/{id}/cancel"),
            &canteen.admin,
            json!({"days": ["2017-01-24"]}),
        )
        .await;
    let cancelled = cancelled.assert_status(200);
    assert_eq!(cancelled["cancelled_days"], json!(["2017-01-24"]));
    assert!(cancelled.get("late").is_none());
    let last = actors(&app, &id).await.pop().unwrap();
    assert_eq!(last, ("DaysCancelled".into(), admin, "admin".into()));
    // Families cannot use the desk's routes.
    app.post(
        &format!("/api/v1/admin/reservations/{id}/cancel"),
        &family.token,
        json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
}

/// The last place of a day, asked for by a family and by the desk at once: one gets it.
#[tokio::test]
async fn a_family_and_the_desk_racing_for_the_last_place_one_wins() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    app.put(
        &format!("/api/v1/admin/periods/{}/capacity", canteen.period_id),
        &canteen.admin,
        json!({"date": "2017-01-23", "capacity": 1}),
    )
    .await
    .assert_status(200);
    for round in 0..3 {
        let dupont =
            family_with_child(&app, &canteen.admin, &format!("Dupont{round}"), "Léa").await;
        let martin =
            family_with_child(&app, &canteen.admin, &format!("Martin{round}"), "Noé").await;
        let date = ["2017-01-23", "2017-01-26", "2017-01-27"][round];
        if round > 0 {
            app.put(
                &format!("/api/v1/admin/periods/{}/capacity", canteen.period_id),
                &canteen.admin,
                json!({"date": date, "capacity": 1}),
            )
            .await
            .assert_status(200);
        }
        let family_path = "/api/v1/reservations".to_string();
        let desk_path = format!("/api/v1/admin/families/{}/reservations", martin.id);
        let (by_family, by_desk) = tokio::join!(
            app.post(
                &family_path,
                &dupont.token,
                book_body(&canteen, &dupont, &[date])
            ),
            app.post(
                &desk_path,
                &canteen.admin,
                book_body(&canteen, &martin, &[date])
            ),
        );
        let won = [&by_family, &by_desk]
            .iter()
            .filter(|r| r.status == 201)
            .count();
        assert_eq!(won, 1, "{} / {}", by_family.body, by_desk.body);
        let lost = if by_family.status == 201 {
            &by_desk
        } else {
            &by_family
        };
        assert_eq!(lost.body["code"], "day_full", "{}", lost.body);
        let (taken, capacity): (i32, i32) =
            sqlx::query_as("SELECT taken, capacity FROM places WHERE date = $1::date")
                .bind(date)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!((taken, capacity), (1, 1));
    }
}

/// Past the family's cut-off the family cannot cancel; the desk can, with a reason, and the
/// reason decides: a paid day is credited (medical certificate, school outing) or refunded
/// (strike, closure); an unpaid day gives nothing back.
#[tokio::test]
async fn a_late_cancellation_needs_a_reason_and_each_reason_gives_its_outcome() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let cases = [
        ("medical_certificate", true, "credit_note"),
        ("school_outing", true, "credit_note"),
        ("strike", true, "refund"),
        ("closure", true, "refund"),
        ("medical_certificate", false, "nothing"),
        ("strike", false, "nothing"),
    ];
    let mut booked = Vec::new();
    for (n, (_, paid, _)) in cases.iter().enumerate() {
        let family = family_with_child(&app, &canteen.admin, &format!("Famille{n}"), "Léa").await;
        let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
        if *paid {
            pay(&app, &family, &[&id]).await;
        }
        booked.push((family, id));
    }
    // Wednesday 18 January: the days of the week of the 23rd are past the cut-off (Tuesday 17th).
    // A week later every session has ended: both log in again.
    app.wait_seconds(7 * 24 * 3600);
    let admin = app.staff_token(cantine::domain::account::Role::Admin).await;
    let (family, id) = &booked[0];
    let (login,): (String,) = sqlx::query_as("SELECT login FROM users WHERE family_id = $1::uuid")
        .bind(&family.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let family_token = app.token(&login, "mot-de-passe").await;
    app.post(
        &format!("/api/v1/reservations/{id}/cancel"),
        &family_token,
        json!({"days": ["2017-01-23"]}),
    )
    .await
    .assert_problem(422, "past_cutoff");
    // Without a reason, the desk is refused as the family is; with an unknown one, too.
    app.post(
        &format!("/api/v1/admin/reservations/{id}/cancel"),
        &admin,
        json!({"days": ["2017-01-23"]}),
    )
    .await
    .assert_problem(422, "past_cutoff");
    let events = app.event_count().await;
    app.post(
        &format!("/api/v1/admin/reservations/{id}/cancel"),
        &admin,
        json!({"days": ["2017-01-23"], "reason": "vacances"}),
    )
    .await
    .assert_problem(400, "invalid_reason");
    assert_eq!(app.event_count().await, events, "nothing recorded");

    for ((reason, paid, outcome), (_family, id)) in cases.iter().zip(&booked) {
        let cancelled = app
            .post(
                &format!("/api/v1/admin/reservations/{id}/cancel"),
                &admin,
                json!({"days": ["2017-01-23"], "reason": reason}),
            )
            .await;
        let cancelled = cancelled.assert_status(200);
        assert_eq!(cancelled["late"]["reason"], *reason);
        assert_eq!(
            cancelled["late"]["outcome"], *outcome,
            "{reason} paid={paid}"
        );
        assert_eq!(cancelled["late"]["days"], json!(["2017-01-23"]));
        if *paid {
            assert_eq!(cancelled["late"]["amount"], "4.15");
            assert_eq!(cancelled["credited"], "4.15");
            assert!(cancelled["credit_note"].is_string(), "{cancelled}");
        } else {
            assert_eq!(cancelled["late"]["amount"], "0.00");
            assert_eq!(cancelled["credited"], "0.00");
            assert!(cancelled.get("credit_note").is_none());
        }
        // The decision is in the event, with its version.
        let (version, late): (String, Value) = sqlx::query_as(
            "SELECT event_version, payload->'DaysCancelled'->'late' FROM events
              WHERE aggregate_id = $1 AND event_type = 'DaysCancelled'",
        )
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(version, "1.2");
        assert_eq!(late["reason"], *reason);
        assert_eq!(late["outcome"], *outcome);
    }
}

async fn desk_form(
    app: &TestApp,
    path: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let csrf = cantine::web::pages::session::csrf_token_for_session(&app.state, token);
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let response = cookie_form(app, path, token, &all).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The family's file at the desk: what the family has, and the desk booking and cancelling on
/// its pages, as the API does.
#[tokio::test]
async fn the_family_file_shows_everything_and_the_desk_books_and_cancels_on_it() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Léa").await;
    let paid = book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    pay(&app, &family, &[&paid]).await;
    all_fresh(&app).await;
    let file = format!("/gestion/familles/{}/dossier", family.id);
    let (status, page) = cookie_page(&app, &file, &canteen.admin).await;
    assert_eq!(status, 200);
    for text in [
        "Dossier de la famille DUPONT",
        "Léa DUPONT",
        "23/01/2017 : réservé",
        "Payée",
        "ReservationPaid",
        "Facture (payée en ligne)",
        "Relevé de compte",
        "Réserver pour un enfant",
    ] {
        assert!(page.contains(text), "{text} in {page}");
    }
    // Reachable from the families list.
    let (_, list) = cookie_page(&app, "/gestion/familles", &canteen.admin).await;
    assert!(list.contains(&file));

    // The desk books a range: what can be booked is, the rest is said.
    let (status, booked) = desk_form(
        &app,
        &format!("{file}/reservation"),
        &canteen.admin,
        &[
            ("enfant", &family.child_id),
            ("periode", &canteen.period_id),
            ("du", "2017-01-23"),
            ("au", "2017-01-27"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{booked}");
    assert!(
        booked.contains("Réservation ajoutée : 24/01/2017 - Prix : 4,15 €"),
        "{booked}"
    );
    assert!(booked.contains("Non réservé : 23/01/2017"), "{booked}");
    assert!(booked.contains("En attente de paiement"), "{booked}");
    // Refused as the family would be: nothing is booked, the page says why.
    let events = app.event_count().await;
    let (status, refused) = desk_form(
        &app,
        &format!("{file}/reservation"),
        &canteen.admin,
        &[
            ("enfant", &family.child_id),
            ("periode", &canteen.period_id),
            ("du", "2017-01-16"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused.contains("Rien n&#39;a été réservé") || refused.contains("Rien n'a été réservé"),
        "{refused}"
    );
    assert_eq!(app.event_count().await, events);

    // A week later, the paid day is past the family's cut-off: the desk cancels it for a strike.
    app.wait_seconds(7 * 24 * 3600);
    let admin = app.staff_token(cantine::domain::account::Role::Admin).await;
    let cancel = format!(
        "/gestion/reservations/{paid}/annulation?famille={}",
        family.id
    );
    let (status, refused) = desk_form(&app, &cancel, &admin, &[("jour", ""), ("motif", "")]).await;
    assert_eq!(status, 422, "without a reason, past the cut-off: {refused}");
    let (status, done) = desk_form(
        &app,
        &cancel,
        &admin,
        &[("jour", "2017-01-23"), ("motif", "strike")],
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert!(
        done.contains("motif « Grève » : Remboursement (4,15 €)"),
        "{done}"
    );
    assert!(done.contains("Avoir AV-"), "{done}");
    all_fresh(&app).await;
    let (_, after) = cookie_page(&app, &file, &admin).await;
    assert!(after.contains("motif : Grève"), "{after}");
}

/// The town's front desk: a role of its own, which acts for families and does nothing else of
/// the administrators'.
#[tokio::test]
async fn the_desk_role_acts_for_families_and_only_that() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Léa").await;
    let desk = app.staff_token(cantine::domain::account::Role::Desk).await;
    let booked = app
        .post(
            &format!("/api/v1/admin/families/{}/reservations", family.id),
            &desk,
            book_body(&canteen, &family, &["2017-01-23"]),
        )
        .await;
    let id = booked.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let roles: Vec<String> = actors(&app, &id).await.into_iter().map(|a| a.2).collect();
    assert_eq!(roles, vec!["desk", "desk"]);
    // Not an administrator: no new family, no restaurant, no family account page.
    app.post(
        "/api/v1/admin/families",
        &desk,
        json!({"name": "X", "login": "x@example.fr"}),
    )
    .await
    .assert_problem(403, "forbidden");
    let (status, list) = cookie_page(&app, "/gestion/familles", &desk).await;
    assert_eq!(status, 200);
    assert!(!list.contains("Créer une famille"), "{list}");
    assert!(list.contains(&format!("/gestion/familles/{}/dossier", family.id)));
    let (status, _) = cookie_page(&app, &format!("/gestion/familles/{}", family.id), &desk).await;
    assert_eq!(status, 403);
    let (status, home) = cookie_page(&app, "/gestion", &desk).await;
    assert_eq!(status, 200);
    assert!(home.contains("Accueil des familles") && home.contains("Familles"));
    assert!(!home.contains("Restaurants") && !home.contains("Effectifs cuisine"));
}
