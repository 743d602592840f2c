//! The second guide (Carcassonne, billed later): two days at 4.97 € booked at confirmation.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn two_days_at_4_97_are_booked_at_once_and_billed_later() {
    // Monday 12 May 2025, 09:00 in Paris.
    let app = spawn_app_at("2025-05-12T07:00:00Z".parse().unwrap()).await;
    let canteen = setup_jean_jaures(&app).await;
    let period_id = canteen.period_id.clone();
    let family = family_with_child(&app, &canteen.admin, "GARCIA", "Emma").await;

    let establishments = app.get("/api/v1/establishments", &family.token).await;
    let listed = &establishments.assert_status(200)[0]["periods"][0];
    assert_eq!(listed["payment"]["mode"], "postpaid");
    assert_eq!(
        listed["capacity"], 150,
        "the restaurant's capacity is the default"
    );

    let requested = app
        .post(
            "/api/v1/reservations",
            &family.token,
            json!({"child_id": family.child_id, "period_id": period_id, "days": ["2025-05-15", "2025-05-16"]}),
        )
        .await;
    let requested = requested.assert_status(201).clone();
    assert_eq!(requested["total"], "9.94");
    assert!(requested["days"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["unit_price"] == "4.97"));
    let id = requested["id"].as_str().unwrap();

    let confirmed = app
        .post_empty(&format!("/api/v1/reservations/{id}/confirm"), &family.token)
        .await;
    let confirmed = confirmed.assert_status(200);
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["total"], "9.94");
    assert!(confirmed.get("pay_before").is_none(), "{confirmed}");

    // Nothing to pay online; the calendar shows both days booked.
    let events = app.event_count().await;
    app.post(
        "/api/v1/payments",
        &family.token,
        json!({"reservation_ids": [id]}),
    )
    .await
    .assert_problem(409, "not_prepaid");
    assert_eq!(app.event_count().await, events);
    let cart = app.get("/api/v1/cart", &family.token).await;
    assert_eq!(
        cart.assert_status(200)["reservations"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let calendar = app
        .get(
            &format!(
                "/api/v1/children/{}/calendar?period_id={period_id}&month=2025-05",
                family.child_id
            ),
            &family.token,
        )
        .await;
    let days = calendar.assert_status(200)["days"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(days.len(), 31);
    let status_of = |date: &str| days.iter().find(|d| d["date"] == date).unwrap()["status"].clone();
    assert_eq!(status_of("2025-05-15"), "booked");
    assert_eq!(status_of("2025-05-16"), "booked");
    assert_eq!(status_of("2025-05-14"), "closed"); // Wednesday
    assert_eq!(status_of("2025-05-13"), "past_cutoff"); // deadline Sunday 11 May 10:00
    assert_eq!(status_of("2025-05-19"), "available");

    // Cancelling one day of a billed-later reservation before its cut-off.
    let cancelled = app
        .post(
            &format!("/api/v1/reservations/{id}/cancel"),
            &family.token,
            json!({"days": ["2025-05-16"]}),
        )
        .await;
    let cancelled = cancelled.assert_status(200);
    assert_eq!(cancelled["status"], "confirmed");
    assert_eq!(cancelled["cancelled_days"], json!(["2025-05-16"]));
    assert_eq!(cancelled["total"], "4.97");
}
