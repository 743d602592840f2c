//! Waiting lists (issue 18, point 4): only full days; a freed place (an expiry, a cancellation,
//! a capacity raised) goes to the first in line, as a held request on a prepaid period; never
//! over capacity, first come first served under concurrency; a child booked otherwise leaves
//! the list; a rebuild gives the same lists.

use cantine::app::jobs::{expiry, waitlist_promoter};
use cantine::projections;
use serde_json::{json, Value};

use crate::helpers::*;

const DAY: &str = "2017-01-23";

async fn set_capacity(app: &TestApp, canteen: &Canteen, day: &str, capacity: i32) -> Reply {
    app.put(
        &format!("/api/v1/admin/periods/{}/capacity", canteen.period_id),
        &canteen.admin,
        json!({"date": day, "capacity": capacity}),
    )
    .await
}

async fn join(app: &TestApp, canteen: &Canteen, family: &Family, days: &[&str]) -> Reply {
    app.post(
        "/api/v1/waitlist",
        &family.token,
        json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": days}),
    )
    .await
}

/// (taken, capacity) of the day's places.
async fn places(app: &TestApp, day: &str) -> (i32, i32) {
    sqlx::query_as("SELECT taken, capacity FROM places WHERE date = $1::date")
        .bind(day)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The children offered a place on the day's list, in the order of the list's events.
async fn offered(app: &TestApp) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT payload->'WaitingPlaceOffered'->>'child_id' FROM events
          WHERE aggregate_type = 'WaitingList' AND event_type = 'WaitingPlaceOffered'
          ORDER BY sequence",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

async fn entries(app: &TestApp) -> Vec<Value> {
    let rows: Vec<(Value,)> =
        sqlx::query_as("SELECT to_jsonb(w) FROM waitlist_entries w ORDER BY date, joined_sequence")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn twenty_in_line_get_freed_places_in_order_never_over_capacity_and_a_rebuild_gives_the_same_lists(
) {
    let app = spawn_app().await;
    app.pause_clock();
    let canteen = setup_repausset(&app).await;
    set_capacity(&app, &canteen, DAY, 6)
        .await
        .assert_status(200);
    // Six holds awaiting payment fill the day.
    let mut holders = Vec::new();
    for i in 0..6 {
        let family = family_with_child(&app, &canteen.admin, &format!("TITULAIRE{i}"), "Léo").await;
        let id = book_and_confirm(&app, &canteen, &family, &[DAY]).await;
        holders.push((family, id));
    }
    assert_eq!(places(&app, DAY).await, (6, 6));
    // Twenty children in line, one after the other.
    let mut waiting = Vec::new();
    for i in 0..20 {
        let family = family_with_child(&app, &canteen.admin, &format!("ATTENTE{i}"), "Zoé").await;
        let reply = join(&app, &canteen, &family, &[DAY]).await;
        assert_eq!(
            reply.assert_status(201)["entries"],
            json!([{"date": DAY, "position": i + 1}])
        );
        waiting.push(family);
    }
    // The service's own jobs stop: the test runs the expiry and three promoters (three servers)
    // at once, while families cancel.
    app.stop_jobs();
    all_fresh(&app).await;
    app.wait_seconds(61 * 60);
    let sampler = {
        let pool = app.pool.clone();
        tokio::spawn(async move {
            let mut worst = 0;
            for _ in 0..400 {
                let (taken,): (i32,) =
                    sqlx::query_as("SELECT taken FROM places WHERE date = '2017-01-23'")
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                let (held,): (i64,) =
                    sqlx::query_as("SELECT count(*) FROM held_days WHERE date = '2017-01-23'")
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                worst = worst.max(taken as i64).max(held);
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            worst
        })
    };
    let cancels = holders[3..].iter().map(|(family, id)| {
        let app = &app;
        async move {
            let reply = app
                .post_empty(&format!("/api/v1/reservations/{id}/cancel"), &family.token)
                .await;
            // Expired first by the expiry running at the same time, or cancelled.
            assert!(
                [200, 409].contains(&reply.status.as_u16()),
                "{:?}",
                reply.body
            );
        }
    });
    let promoters = (0..3).map(|_| {
        let state = app.state.clone();
        async move {
            for _ in 0..300 {
                waitlist_promoter::promote_due(&state).await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    });
    let state = app.state.clone();
    let expiry = async move { expiry::expire_due(&state).await.unwrap() };
    let ((), (), _) = tokio::join!(
        async {
            futures::future::join_all(cancels).await;
        },
        async {
            futures::future::join_all(promoters).await;
        },
        expiry
    );
    // On a busy machine the promoters' six seconds may end before the last freed place is
    // marked due: the service's own promoter goes on until every freed place is offered.
    eventually("every freed place offered", || async {
        waitlist_promoter::promote_due(&app.state).await.unwrap();
        places(&app, DAY).await.0 == 6
    })
    .await;
    let worst = sampler.await.unwrap();
    assert!(worst <= 6, "at most 6 places taken, saw {worst}");
    // The first six in line have the six places, in their order; the others moved up.
    let first_six: Vec<String> = waiting[..6].iter().map(|f| f.child_id.clone()).collect();
    assert_eq!(offered(&app).await, first_six);
    assert_eq!(places(&app, DAY).await, (6, 6));
    for family in &waiting[..6] {
        let reservations = app.get("/api/v1/reservations", &family.token).await;
        let item = &reservations.assert_status(200)["items"][0];
        assert_eq!(item["status"], "awaiting_payment", "{item}");
        // Its own deadline: an hour from the promotion (the clock stands at 14:39).
        let deadline: chrono::DateTime<chrono::Utc> =
            item["pay_before"].as_str().unwrap().parse().unwrap();
        let at: chrono::DateTime<chrono::Utc> = "2017-01-11T15:39:00Z".parse().unwrap();
        assert!(
            deadline >= at && deadline < at + chrono::Duration::seconds(5),
            "{item}"
        );
    }
    for (i, family) in waiting[6..].iter().enumerate() {
        let list = app.get("/api/v1/waitlist", &family.token).await;
        assert_eq!(list.assert_status(200)[0]["position"], i + 1);
    }
    // A rebuild from the log gives the same lists.
    all_fresh(&app).await;
    let before = entries(&app).await;
    assert_eq!(before.len(), 14);
    projections::rebuild::rebuild(&app.pool, projections::by_name("waitlist").unwrap())
        .await
        .unwrap();
    assert_eq!(entries(&app).await, before);
}

#[tokio::test]
async fn refusals_leaving_and_a_capacity_raised() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    set_capacity(&app, &canteen, DAY, 1)
        .await
        .assert_status(200);
    let holder = family_with_child(&app, &canteen.admin, "TITULAIRE", "Léo").await;
    let first = family_with_child(&app, &canteen.admin, "PREMIER", "Lou").await;
    let second = family_with_child(&app, &canteen.admin, "SECOND", "Tom").await;
    // A day with room is booked, not waited for.
    join(&app, &canteen, &first, &[DAY])
        .await
        .assert_problem(422, "day_not_full");
    book_and_confirm(&app, &canteen, &holder, &[DAY]).await;
    // Booked already; closed; another family's child; nothing at all.
    join(&app, &canteen, &holder, &[DAY])
        .await
        .assert_problem(422, "already_booked");
    let closed = join(&app, &canteen, &first, &["2017-02-20"]).await;
    assert_eq!(closed.status, 422, "{:?}", closed.body);
    app.post(
        "/api/v1/waitlist",
        &first.token,
        json!({"child_id": second.child_id, "period_id": canteen.period_id, "days": [DAY]}),
    )
    .await
    .assert_problem(404, "unknown_child");
    join(&app, &canteen, &first, &[])
        .await
        .assert_problem(400, "no_days");
    assert_eq!(
        join(&app, &canteen, &first, &[DAY])
            .await
            .assert_status(201)["entries"],
        json!([{"date": DAY, "position": 1}])
    );
    join(&app, &canteen, &first, &[DAY])
        .await
        .assert_problem(409, "already_waiting");
    join(&app, &canteen, &second, &[DAY])
        .await
        .assert_status(201);
    // The calendar says it.
    let calendar = app
        .get(
            &format!(
                "/api/v1/children/{}/calendar?period_id={}&month=2017-01",
                second.child_id, canteen.period_id
            ),
            &second.token,
        )
        .await;
    let day = calendar.assert_status(200)["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == DAY)
        .unwrap()
        .clone();
    assert_eq!(day["status"], "full");
    assert_eq!(day["waiting_position"], 2);
    // The first leaves; leaving twice is refused; another family cannot take a child off.
    app.delete(
        &format!("/api/v1/waitlist/{}/{DAY}", second.child_id),
        &first.token,
    )
    .await
    .assert_problem(404, "not_found");
    app.delete(
        &format!("/api/v1/waitlist/{}/{DAY}", first.child_id),
        &first.token,
    )
    .await
    .assert_status(204);
    app.delete(
        &format!("/api/v1/waitlist/{}/{DAY}", first.child_id),
        &first.token,
    )
    .await
    .assert_problem(404, "not_waiting");
    let list = app.get("/api/v1/waitlist", &second.token).await;
    assert_eq!(list.assert_status(200)[0]["position"], 1);
    // Nobody else passes the line: a new family finds the day full even with a place freed.
    set_capacity(&app, &canteen, DAY, 2)
        .await
        .assert_status(200);
    eventually("the place offered to the first in line", || async {
        offered(&app).await == vec![second.child_id.clone()]
    })
    .await;
    assert_eq!(places(&app, DAY).await, (2, 2));
    let reservations = app.get("/api/v1/reservations", &second.token).await;
    assert_eq!(
        reservations.assert_status(200)["items"][0]["status"],
        "awaiting_payment"
    );
    assert!(app
        .get("/api/v1/waitlist", &second.token)
        .await
        .assert_status(200)
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_child_booked_that_day_elsewhere_leaves_the_list() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    set_capacity(&app, &canteen, DAY, 0)
        .await
        .assert_status(200);
    let family = family_with_child(&app, &canteen.admin, "AILLEURS", "Inès").await;
    join(&app, &canteen, &family, &[DAY])
        .await
        .assert_status(201);
    // Another restaurant, the same service: the child books the day there.
    let other = app
        .post(
            "/api/v1/admin/restaurants",
            &canteen.admin,
            json!({"name": "Restaurant Scolaire Charles Gros", "capacity": 50}),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let period = app
        .post(
            "/api/v1/admin/periods",
            &canteen.admin,
            repausset_period(&other),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        "/api/v1/reservations",
        &family.token,
        json!({"child_id": family.child_id, "period_id": period, "days": [DAY]}),
    )
    .await
    .assert_status(201);
    eventually("the child off the list", || async {
        app.get("/api/v1/waitlist", &family.token)
            .await
            .assert_status(200)
            .as_array()
            .unwrap()
            .is_empty()
    })
    .await;
    let (reason,): (String,) = sqlx::query_as(
        "SELECT payload->'ChildLeftWaitingList'->>'reason' FROM events
          WHERE event_type = 'ChildLeftWaitingList'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(reason, "booked");
}

#[tokio::test]
async fn the_portal_joins_and_leaves_from_the_calendar_and_staff_see_the_lists() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    set_capacity(&app, &canteen, DAY, 0)
        .await
        .assert_status(200);
    let family = family_with_child(&app, &canteen.admin, "PORTAIL", "Jade").await;
    let calendar = format!(
        "/reservation/calendrier?enfant={}&periode={}&mois=2017-01",
        family.child_id, canteen.period_id
    );
    let page = format!(
        "/liste-attente?enfant={}&periode={}&jour={DAY}",
        family.child_id, canteen.period_id
    );
    let (status, html) = portal_page(&app, &family, &calendar).await;
    assert_eq!(status, 200);
    assert_shows(
        &html,
        &["Complet", &page.replace('&', "&amp;"), "liste d'attente"],
    );
    let (status, html) = portal_page(&app, &family, &page).await;
    assert_eq!(status, 200);
    assert_shows(
        &html,
        &["pas en liste d'attente", "Mettre Jade en liste d'attente"],
    );
    let csrf = portal_csrf(&app, &family);
    let form = format!(
        "csrf={csrf}&enfant={}&periode={}&jour={DAY}",
        family.child_id, canteen.period_id
    );
    let (_, html) = post_portal_and_follow(
        &app,
        &family,
        "/liste-attente",
        form.clone(),
        "/liste-attente",
    )
    .await;
    assert_shows(
        &html,
        &[
            "En liste d'attente (position 1)",
            "Quitter la liste d'attente",
        ],
    );
    let (_, html) = portal_page(&app, &family, &calendar).await;
    assert_shows(
        &html,
        &["En liste d'attente (position 1)", "quitter la liste"],
    );
    // Joining again says why, in French.
    let (status, _, html) = post_portal_form(&app, &family, "/liste-attente", form.clone()).await;
    assert_eq!(status, 409, "{html}");
    // The staff's page of the day (the kitchen reads it too).
    let kitchen = app
        .staff_token(cantine::domain::account::Role::Kitchen)
        .await;
    let (status, html) = cookie_page(&app, &format!("/gestion/attente?date={DAY}"), &kitchen).await;
    assert_eq!(status, 200);
    assert_shows(
        &html,
        &[
            "Restaurant Scolaire Le Repausset",
            "1 enfant en attente",
            "Jade PORTAIL",
        ],
    );
    let (_, html) = post_portal_and_follow(
        &app,
        &family,
        "/liste-attente/quitter",
        form,
        "/reservation/calendrier",
    )
    .await;
    assert!(!html.contains("En liste d'attente"), "{html}");
    let (_, html) = cookie_page(&app, &format!("/gestion/attente?date={DAY}"), &kitchen).await;
    assert_shows(&html, &["Aucune liste d'attente"]);
}

/// A child in line leaves it when it holds the day through another reservation, but not for the
/// day held by its own promotion's reservation: between that request and the offer recorded on
/// the list (another promoter's, on another server), it is the place being offered. Taking it
/// for a booking elsewhere once left a child with the place and no offer on the list.
#[tokio::test]
async fn a_child_holding_the_day_through_its_own_promotion_is_not_booked_elsewhere() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let reservation = book_and_confirm(&app, &canteen, &family, &[DAY]).await;
    let child: uuid::Uuid = family.child_id.parse().unwrap();
    let reservation: uuid::Uuid = reservation.parse().unwrap();
    let day: chrono::NaiveDate = DAY.parse().unwrap();
    let holding = |promotion: uuid::Uuid| {
        let pool = app.pool.clone();
        async move {
            cantine::db::waitlist::children_holding(&pool, &[(child, promotion)], "REPAS", day)
                .await
                .unwrap()
        }
    };
    assert!(
        holding(reservation).await.is_empty(),
        "its own promotion's day"
    );
    assert_eq!(
        holding(uuid::Uuid::new_v4())
            .await
            .into_iter()
            .collect::<Vec<_>>(),
        [child],
        "a day held through another reservation"
    );
    let other_day = "2017-01-24".parse().unwrap();
    let elsewhere = cantine::db::waitlist::children_holding(
        &app.pool,
        &[(child, reservation)],
        "REPAS",
        other_day,
    )
    .await
    .unwrap();
    assert!(elsewhere.is_empty(), "a day not held at all");
}
