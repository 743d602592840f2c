//! Expiry finds unpaid holds in the database: a restart loses none, and neither a second pass
//! nor a second server expires anything twice.

use serde_json::json;

use crate::helpers::*;

async fn confirmed_reservation(app: &TestApp) -> (Canteen, Family, String) {
    let canteen = setup_repausset(app).await;
    let family = family_with_child(app, &canteen.admin, "DUPONT", "Hervé").await;
    let reply = app
        .post(
            "/api/v1/reservations",
            &family.token,
            json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": ["2017-01-23"]}),
        )
        .await;
    let id = reply.assert_status(201)["id"].as_str().unwrap().to_string();
    app.post_empty(&format!("/api/v1/reservations/{id}/confirm"), &family.token)
        .await
        .assert_status(200);
    (canteen, family, id)
}

async fn expired_events(app: &TestApp) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM events WHERE event_type = 'ReservationExpired'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    n
}

#[tokio::test]
async fn a_restarted_server_expires_what_the_previous_one_left() {
    let first = spawn_app().await;
    let (_, family, id) = confirmed_reservation(&first).await;
    let url = first.database_url.clone();
    drop(first);
    // The new process starts after the deadline; it has never seen the reservation.
    let restarted = spawn_app_on(url, guide_now() + chrono::Duration::minutes(61)).await;
    let path = format!("/api/v1/reservations/{id}");
    eventually("the restarted server expires the hold", || async {
        restarted.get(&path, &family.token).await.body["status"] == "expired"
    })
    .await;
    assert_eq!(expired_events(&restarted).await, 1);
}

#[tokio::test]
async fn nothing_expires_before_the_deadline_and_nothing_twice() {
    let app = spawn_app().await;
    let (canteen, family, id) = confirmed_reservation(&app).await;
    assert_eq!(
        cantine::app::jobs::expiry::expire_due(&app.state)
            .await
            .unwrap(),
        0,
        "not before 15:38"
    );
    app.advance_clock(&canteen.admin, 61).await;
    let path = format!("/api/v1/reservations/{id}");
    eventually("expired", || async {
        app.get(&path, &family.token).await.body["status"] == "expired"
    })
    .await;
    assert_eq!(
        cantine::app::jobs::expiry::expire_due(&app.state)
            .await
            .unwrap(),
        0,
        "a second pass expires nothing"
    );
    assert_eq!(expired_events(&app).await, 1);
}

#[tokio::test]
async fn two_servers_expire_a_hold_once() {
    let first = spawn_app().await;
    let (_, _, _id) = confirmed_reservation(&first).await;
    let later = guide_now() + chrono::Duration::minutes(61);
    let a = spawn_app_on(first.database_url.clone(), later).await;
    let b = spawn_app_on(first.database_url.clone(), later).await;
    let (ra, rb) = tokio::join!(
        cantine::app::jobs::expiry::expire_due(&a.state),
        cantine::app::jobs::expiry::expire_due(&b.state)
    );
    let total = ra.unwrap() + rb.unwrap();
    assert!(total <= 1, "expired {total} times");
    eventually("one expiry in the log", || async {
        expired_events(&a).await == 1
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(expired_events(&a).await, 1);
}

#[tokio::test]
async fn concurrent_commands_on_one_reservation_are_retried_or_refused_cleanly() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let days = [
        "2017-01-23",
        "2017-01-24",
        "2017-01-26",
        "2017-01-27",
        "2017-01-30",
        "2017-01-31",
    ];
    let reply = app
        .post(
            "/api/v1/reservations",
            &family.token,
            json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": days}),
        )
        .await;
    let id = reply.assert_status(201)["id"].as_str().unwrap().to_string();

    // Two confirmations at once: one wins, the other learns it is already confirmed.
    let path = format!("/api/v1/reservations/{id}/confirm");
    let (a, b) = tokio::join!(
        app.post_empty(&path, &family.token),
        app.post_empty(&path, &family.token)
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.body, b.body);
    let conflict = if a.status == 409 { &a } else { &b };
    assert_eq!(conflict.body["code"], "already_confirmed");

    // Six cancellations of one day each, at once: each is applied or refused, none is lost.
    let path = format!("/api/v1/reservations/{id}/cancel");
    let replies = futures::future::join_all(
        days.iter()
            .map(|day| app.post(&path, &family.token, json!({"days": [day]}))),
    )
    .await;
    let mut applied = Vec::new();
    for (day, reply) in days.iter().zip(&replies) {
        match reply.status.as_u16() {
            200 => applied.push(*day),
            409 => assert_eq!(reply.body["code"], "concurrent_change"),
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert!(!applied.is_empty());
    let (cancel_events,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM events WHERE event_type = 'DaysCancelled'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(cancel_events as usize, applied.len());
    let detail = app
        .get(&format!("/api/v1/reservations/{id}"), &family.token)
        .await;
    let cancelled: Vec<String> = detail.body["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "cancelled")
        .map(|d| d["date"].as_str().unwrap().to_string())
        .collect();
    let mut applied: Vec<String> = applied.into_iter().map(String::from).collect();
    applied.sort();
    assert_eq!(cancelled, applied);
}
