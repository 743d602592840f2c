//! One test per error code of the contract, each checking that nothing was stored.

use serde_json::{json, Value};

use crate::first_guide::notify;
use crate::helpers::*;

struct World {
    app: TestApp,
    canteen: Canteen,
    family: Family,
}

async fn world() -> World {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    World {
        app,
        canteen,
        family,
    }
}

impl World {
    fn booking(&self, days: Value) -> Value {
        json!({"child_id": self.family.child_id, "period_id": self.canteen.period_id, "days": days})
    }

    async fn book(&self, days: Value) -> String {
        let reply = self
            .app
            .post(
                "/api/v1/reservations",
                &self.family.token,
                self.booking(days),
            )
            .await;
        reply.assert_status(201)["id"].as_str().unwrap().to_string()
    }

    async fn confirm(&self, id: &str) {
        self.app
            .post_empty(
                &format!("/api/v1/reservations/{id}/confirm"),
                &self.family.token,
            )
            .await
            .assert_status(200);
    }

    /// Asserts that `reply` is the refusal and that no event was appended meanwhile.
    async fn refused(&self, events_before: i64, reply: Reply, status: u16, code: &str) {
        reply.assert_problem(status, code);
        assert_eq!(
            self.app.event_count().await,
            events_before,
            "a refused request stores nothing ({code})"
        );
    }
}

async fn refused_booking(days: Value, code: &str, offending: Value) {
    let w = world().await;
    let before = w.app.event_count().await;
    let reply = w
        .app
        .post("/api/v1/reservations", &w.family.token, w.booking(days))
        .await;
    assert_eq!(reply.body["days"], offending, "{}", reply.body);
    w.refused(before, reply, 422, code).await;
    let (next,): (i64,) = sqlx::query_as("SELECT next_reservation_number FROM organisations")
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    assert_eq!(next, 1, "a refused request takes no reservation number");
}

#[tokio::test]
async fn outside_period() {
    refused_booking(
        json!(["2017-01-23", "2017-07-10"]),
        "outside_period",
        json!(["2017-07-10"]),
    )
    .await;
}

#[tokio::test]
async fn closed_day_not_an_opening_day() {
    refused_booking(json!(["2017-01-25"]), "closed_day", json!(["2017-01-25"])).await;
}

#[tokio::test]
async fn closed_day_in_a_closure() {
    // The winter holidays.
    refused_booking(
        json!(["2017-01-23", "2017-02-20"]),
        "closed_day",
        json!(["2017-02-20"]),
    )
    .await;
}

#[tokio::test]
async fn past_cutoff() {
    // Friday 20 January 2017's deadline was Tuesday 10 January, 09:30.
    refused_booking(
        json!(["2017-01-20", "2017-01-23"]),
        "past_cutoff",
        json!(["2017-01-20"]),
    )
    .await;
}

#[tokio::test]
async fn no_days() {
    refused_booking(json!([]), "no_days", Value::Null).await;
}

#[tokio::test]
async fn duplicate_days() {
    refused_booking(
        json!(["2017-01-23", "2017-01-23"]),
        "duplicate_days",
        json!(["2017-01-23"]),
    )
    .await;
}

#[tokio::test]
async fn unknown_period_and_child() {
    let w = world().await;
    let before = w.app.event_count().await;
    let reply = w
        .app
        .post(
            "/api/v1/reservations",
            &w.family.token,
            json!({"child_id": w.family.child_id, "period_id": uuid::Uuid::new_v4(), "days": ["2017-01-23"]}),
        )
        .await;
    w.refused(before, reply, 404, "unknown_period").await;
    let reply = w
        .app
        .post(
            "/api/v1/reservations",
            &w.family.token,
            json!({"child_id": uuid::Uuid::new_v4(), "period_id": w.canteen.period_id, "days": ["2017-01-23"]}),
        )
        .await;
    w.refused(before, reply, 404, "unknown_child").await;
}

#[tokio::test]
async fn malformed_bodies_and_parameters() {
    let w = world().await;
    let before = w.app.event_count().await;
    let reply = w
        .app
        .post(
            "/api/v1/reservations",
            &w.family.token,
            json!({"child_id": "nope"}),
        )
        .await;
    w.refused(before, reply, 400, "malformed_body").await;
    let reply = w
        .app
        .post(
            "/api/v1/reservations",
            &w.family.token,
            w.booking(json!(["23/01/2017"])),
        )
        .await;
    w.refused(before, reply, 400, "malformed_body").await;
    let reply = w
        .app
        .post_empty("/api/v1/reservations/not-a-uuid/confirm", &w.family.token)
        .await;
    w.refused(before, reply, 400, "invalid_parameter").await;
    let reply = w
        .app
        .post_empty(
            &format!("/api/v1/reservations/{}/confirm", uuid::Uuid::new_v4()),
            &w.family.token,
        )
        .await;
    w.refused(before, reply, 404, "not_found").await;
    let id = w.book(json!(["2017-01-23"])).await;
    let before = w.app.event_count().await;
    let reply = w
        .app
        .post(
            &format!("/api/v1/reservations/{id}/cancel"),
            &w.family.token,
            json!({"days": "all"}),
        )
        .await;
    w.refused(before, reply, 400, "malformed_body").await;
}

#[tokio::test]
async fn body_too_large() {
    let w = world().await;
    let before = w.app.event_count().await;
    let days: Vec<String> = (0..10_000).map(|_| "2017-01-23".to_string()).collect();
    let reply = w
        .app
        .post(
            "/api/v1/reservations",
            &w.family.token,
            w.booking(json!(days)),
        )
        .await;
    w.refused(before, reply, 413, "body_too_large").await;
}

#[tokio::test]
async fn already_confirmed() {
    let w = world().await;
    let id = w.book(json!(["2017-01-23"])).await;
    w.confirm(&id).await;
    let before = w.app.event_count().await;
    let reply = w
        .app
        .post_empty(
            &format!("/api/v1/reservations/{id}/confirm"),
            &w.family.token,
        )
        .await;
    w.refused(before, reply, 409, "already_confirmed").await;
}

#[tokio::test]
async fn payment_refusals() {
    let w = world().await;
    let unconfirmed = w.book(json!(["2017-01-23"])).await;
    let before = w.app.event_count().await;
    let reply = w
        .app
        .post(
            "/api/v1/payments",
            &w.family.token,
            json!({"reservation_ids": [unconfirmed]}),
        )
        .await;
    w.refused(before, reply, 409, "not_confirmed").await;
    let reply = w
        .app
        .post(
            "/api/v1/payments",
            &w.family.token,
            json!({"reservation_ids": []}),
        )
        .await;
    w.refused(before, reply, 422, "no_reservations").await;

    let id = w.book(json!(["2017-01-24"])).await;
    w.confirm(&id).await;
    let payment = w
        .app
        .post(
            "/api/v1/payments",
            &w.family.token,
            json!({"reservation_ids": [id]}),
        )
        .await;
    let payment_id = payment.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = w
        .app
        .post(
            "/api/v1/payments",
            &w.family.token,
            json!({"reservation_ids": [id]}),
        )
        .await;
    // Booked, confirmed, and the first payment started: then nothing more.
    w.refused(before + 3, reply, 409, "payment_pending").await;

    let before = w.app.event_count().await;
    // Wrong signature: 401, nothing stored.
    let reply = notify(
        &w.app,
        &payment_id,
        json!({"status": "succeeded", "amount": "4.15", "provider_ref": "X"}),
        "wrong",
    )
    .await;
    w.refused(before, reply, 401, "invalid_signature").await;
    // Another amount: refused, nothing stored.
    let reply = notify(
        &w.app,
        &payment_id,
        json!({"status": "succeeded", "amount": "4.14", "provider_ref": "X"}),
        PAYMENT_SECRET,
    )
    .await;
    w.refused(before, reply, 422, "amount_mismatch").await;
    let (status,): (String,) = sqlx::query_as("SELECT status FROM payments")
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    assert_eq!(status, "pending");

    notify(
        &w.app,
        &payment_id,
        json!({"status": "succeeded", "amount": "4.15", "provider_ref": "X"}),
        PAYMENT_SECRET,
    )
    .await
    .assert_status(200);
    let before = w.app.event_count().await;
    let reply = w
        .app
        .post(
            "/api/v1/payments",
            &w.family.token,
            json!({"reservation_ids": [id]}),
        )
        .await;
    w.refused(before, reply, 409, "already_paid").await;
    // A failure notified after the success does not undo it.
    let reply = notify(
        &w.app,
        &payment_id,
        json!({"status": "failed", "amount": "4.15", "provider_ref": "X"}),
        PAYMENT_SECRET,
    )
    .await;
    // Answered 200 so that the provider stops retrying, with the state that stands.
    assert_eq!(reply.assert_status(200)["status"], "succeeded");
    assert_eq!(
        w.app.event_count().await,
        before,
        "a late failure stores nothing"
    );
}

#[tokio::test]
async fn payment_after_the_deadline() {
    let w = world().await;
    let id = w.book(json!(["2017-01-23"])).await;
    w.confirm(&id).await;
    // Frozen at the deadline: the expiry task has not run yet, the payment is refused anyway.
    w.app.state.expiry_wake.notify_one();
    w.app.advance_clock(&w.canteen.admin, 60).await;
    let before_payments: (i64,) = sqlx::query_as("SELECT count(*) FROM payments")
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    let reply = w
        .app
        .post(
            "/api/v1/payments",
            &w.family.token,
            json!({"reservation_ids": [id]}),
        )
        .await;
    let code = reply.body["code"].as_str().unwrap().to_string();
    // Either the hold expired already (409) or the deadline refuses it (422): never a payment.
    assert!(
        (reply.status == 422 && code == "payment_deadline_passed")
            || (reply.status == 409 && code == "already_expired"),
        "{}",
        reply.body
    );
    let after_payments: (i64,) = sqlx::query_as("SELECT count(*) FROM payments")
        .fetch_one(&w.app.pool)
        .await
        .unwrap();
    assert_eq!(before_payments, after_payments);
}

#[tokio::test]
async fn cancel_refusals() {
    let w = world().await;
    let id = w.book(json!(["2017-01-23", "2017-01-24"])).await;
    let before = w.app.event_count().await;
    let reply = w
        .app
        .post(
            &format!("/api/v1/reservations/{id}/cancel"),
            &w.family.token,
            json!({"days": ["2017-01-27"]}),
        )
        .await;
    assert_eq!(reply.body["days"], json!(["2017-01-27"]));
    w.refused(before, reply, 422, "unknown_days").await;
    w.app
        .post_empty(
            &format!("/api/v1/reservations/{id}/cancel"),
            &w.family.token,
        )
        .await
        .assert_status(200);
    let before = w.app.event_count().await;
    let reply = w
        .app
        .post_empty(
            &format!("/api/v1/reservations/{id}/cancel"),
            &w.family.token,
        )
        .await;
    w.refused(before, reply, 409, "already_cancelled").await;
    let reply = w
        .app
        .post_empty(
            &format!("/api/v1/reservations/{id}/confirm"),
            &w.family.token,
        )
        .await;
    w.refused(before, reply, 409, "already_cancelled").await;

    let expiring = w.book(json!(["2017-01-27"])).await;
    w.confirm(&expiring).await;
    w.app.advance_clock(&w.canteen.admin, 61).await;
    let url = format!("/api/v1/reservations/{expiring}");
    eventually("expiry", || async {
        w.app.get(&url, &w.family.token).await.body["status"] == "expired"
    })
    .await;
    let before = w.app.event_count().await;
    let reply = w
        .app
        .post_empty(
            &format!("/api/v1/reservations/{expiring}/cancel"),
            &w.family.token,
        )
        .await;
    w.refused(before, reply, 409, "already_expired").await;
}
