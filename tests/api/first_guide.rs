//! The first guide (Terre de Camargue, prepaid): at 2017-01-11 14:38 Paris, Hervé is booked for
//! 23, 24, 27 and 31 January 2017 at Le Repausset: 4 × 4.15 € = 16.60 €, pay before 15:38.

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Paris;
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

const GUIDE_DAYS: [&str; 4] = ["2017-01-23", "2017-01-24", "2017-01-27", "2017-01-31"];

pub async fn notify(
    app: &TestApp,
    payment_id: &str,
    body: serde_json::Value,
    secret: &str,
) -> Reply {
    // The signed body names its payment; a test that means another one says so itself.
    let mut body = body;
    if body.get("payment_id").is_none() {
        body["payment_id"] = serde_json::json!(payment_id);
    }
    let raw = serde_json::to_vec(&body).unwrap();
    let signature = cantine::web::api::payments::sign(secret.as_bytes(), &raw);
    let response = app
        .raw()
        .await
        .request(
            Method::POST,
            format!("{}/api/v1/payments/{payment_id}/notify", app.address),
        )
        .header("content-type", "application/json")
        .header("Cantine-Signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    TestApp::reply(response).await
}

#[tokio::test]
async fn the_first_guide_from_booking_to_payment_and_expiry() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;

    // The establishment and its rule in the parents' words.
    let establishments = app.get("/api/v1/establishments", &dupont.token).await;
    let period = &establishments.assert_status(200)[0]["periods"][0];
    assert_eq!(period["label"], "Restauration Le Repausset 2016-2017");
    assert_eq!(period["unit_price"], "4.15");
    assert_eq!(
        period["booking_rule"],
        "Vous devez réserver avant le mardi de la semaine précédente, 09:30"
    );

    // Step 7-8: tick the days, see the estimate "en attente de confirmation".
    let requested = app
        .post(
            "/api/v1/reservations",
            &dupont.token,
            json!({"child_id": dupont.child_id, "period_id": canteen.period_id, "days": GUIDE_DAYS}),
        )
        .await;
    let requested = requested.assert_status(201).clone();
    assert_eq!(requested["number"], "00001");
    assert_eq!(requested["status"], "requested");
    assert_eq!(requested["total"], "16.60");
    let days: Vec<(&str, &str)> = requested["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap(),
                d["unit_price"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(days, GUIDE_DAYS.map(|d| (d, "4.15")).to_vec());
    let first_id = requested["id"].as_str().unwrap().to_string();

    // Step 9: confirm; pay before 15:38, one hour after 14:38.
    let confirmed = app
        .post_empty(
            &format!("/api/v1/reservations/{first_id}/confirm"),
            &dupont.token,
        )
        .await;
    let confirmed = confirmed.assert_status(200);
    assert_eq!(confirmed["status"], "awaiting_payment");
    assert_eq!(confirmed["total"], "16.60");
    let pay_before: DateTime<Utc> = confirmed["pay_before"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        pay_before
            .with_timezone(&Paris)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        "2017-01-11 15:38"
    );

    let detail = app
        .get(&format!("/api/v1/reservations/{first_id}"), &dupont.token)
        .await;
    let detail = detail.assert_status(200);
    assert_eq!(detail["number"], "00001");
    assert_eq!(detail["status"], "awaiting_payment");
    assert_eq!(detail["first_day"], "2017-01-23");
    assert_eq!(detail["last_day"], "2017-01-31");
    assert!(detail["days"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["status"] == "awaiting_payment"));

    // A second reservation gets the next number; it is the one that gets paid.
    let second = app
        .post(
            "/api/v1/reservations",
            &dupont.token,
            json!({"child_id": dupont.child_id, "period_id": canteen.period_id, "days": ["2017-02-02", "2017-02-03"]}),
        )
        .await;
    let second = second.assert_status(201).clone();
    assert_eq!(second["number"], "00002");
    assert_eq!(second["total"], "8.30");
    let second_id = second["id"].as_str().unwrap().to_string();
    app.post_empty(
        &format!("/api/v1/reservations/{second_id}/confirm"),
        &dupont.token,
    )
    .await
    .assert_status(200);

    // Step 10: the cart lists every unpaid reservation with its deadline, and one total.
    let cart = app.get("/api/v1/cart", &dupont.token).await;
    let cart = cart.assert_status(200);
    assert_eq!(cart["total"], "24.90");
    assert_eq!(cart["reservations"].as_array().unwrap().len(), 2);

    let payment = app
        .post(
            "/api/v1/payments",
            &dupont.token,
            json!({"reservation_ids": [second_id]}),
        )
        .await;
    let payment = payment.assert_status(201).clone();
    assert_eq!(payment["amount"], "8.30");
    assert_eq!(payment["status"], "pending");
    assert!(payment["redirect_url"]
        .as_str()
        .unwrap()
        .starts_with("http"));
    let payment_id = payment["id"].as_str().unwrap();
    let notification = json!({"status": "succeeded", "amount": "8.30", "provider_ref": "PSP-1"});
    let settled = notify(&app, payment_id, notification.clone(), PAYMENT_SECRET).await;
    assert_eq!(settled.assert_status(200)["status"], "succeeded");
    // The same notification twice has the effect of one.
    let events_after_payment = app.event_count().await;
    notify(&app, payment_id, notification, PAYMENT_SECRET)
        .await
        .assert_status(200);
    assert_eq!(app.event_count().await, events_after_payment);

    let paid = app
        .get(&format!("/api/v1/reservations/{second_id}"), &dupont.token)
        .await;
    assert_eq!(paid.assert_status(200)["status"], "paid");
    let invoices = app.get("/api/v1/invoices", &dupont.token).await;
    let invoices = invoices.assert_status(200).as_array().unwrap().clone();
    assert_eq!(
        invoices.len(),
        1,
        "one invoice for one payment, even notified twice"
    );
    assert_eq!(invoices[0]["number"], "2017-000001");
    assert_eq!(invoices[0]["total"], "8.30");
    assert_eq!(invoices[0]["lines"][0]["quantity"], 2);
    assert_eq!(invoices[0]["lines"][0]["unit_price"], "4.15");

    // Past 15:38 the unpaid reservation is expired by the background task; the paid one stays.
    app.advance_clock(&canteen.admin, 61).await;
    let url = format!("/api/v1/reservations/{first_id}");
    eventually("the unpaid reservation expires", || async {
        app.get(&url, &dupont.token).await.body["status"] == "expired"
    })
    .await;
    let paid = app
        .get(&format!("/api/v1/reservations/{second_id}"), &dupont.token)
        .await;
    assert_eq!(paid.body["status"], "paid");
    let cart = app.get("/api/v1/cart", &dupont.token).await;
    assert_eq!(cart.body["total"], "0.00");

    // History: newest first, the guide's columns.
    let history = app
        .get("/api/v1/reservations?page=1&per_page=5", &dupont.token)
        .await;
    let history = history.assert_status(200);
    assert_eq!(history["total"], 2);
    let items = history["items"].as_array().unwrap();
    assert_eq!(items[0]["number"], "00002");
    assert_eq!(items[0]["status"], "paid");
    assert_eq!(items[1]["number"], "00001");
    assert_eq!(items[1]["status"], "expired");
    assert_eq!(items[1]["child"], "Hervé DUPONT");
    assert_eq!(
        items[1]["establishment"],
        "Restaurant Scolaire Le Repausset"
    );
    assert_eq!(
        items[1]["period"],
        "CANTINE SCOLAIRE Restauration Le Repausset 2016-2017"
    );

    // Every event says who asked and through which request.
    let metadata: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT event_type, metadata FROM events ORDER BY global_position")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let types: Vec<&str> = metadata.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "ReservationRequested",
            "ReservationConfirmed",
            "ReservationRequested",
            "ReservationConfirmed",
            "PaymentStarted",
            "PaymentSucceeded",
            "ReservationPaid",
            "InvoiceIssued",
            "ReservationExpired"
        ]
    );
    for (event_type, meta) in &metadata {
        assert!(
            meta["request_id"]
                .as_str()
                .is_some_and(|r| !r.is_empty() && r != "-"),
            "{event_type}: {meta}"
        );
        assert!(meta["actor_role"].is_string(), "{event_type}: {meta}");
    }
    assert_eq!(metadata[0].1["actor_role"], "family");
    assert_eq!(metadata[4].1["actor_role"], "family");
    assert_eq!(metadata[5].1["actor_role"], "payment_provider");
    assert_eq!(metadata[6].1["actor_role"], "payment_provider");
    assert_eq!(metadata[8].1["actor"], "system");
}

#[tokio::test]
async fn history_pages_five_at_a_time_and_searches() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let mondays = [
        "2017-02-06",
        "2017-02-13",
        "2017-03-06",
        "2017-03-13",
        "2017-03-20",
        "2017-03-27",
        "2017-04-03",
    ];
    for day in mondays {
        app.post(
            "/api/v1/reservations",
            &dupont.token,
            json!({"child_id": dupont.child_id, "period_id": canteen.period_id, "days": [day]}),
        )
        .await
        .assert_status(201);
    }
    let page1 = app.get("/api/v1/reservations", &dupont.token).await;
    assert_eq!(page1.body["total"], 7);
    assert_eq!(page1.body["items"].as_array().unwrap().len(), 5);
    assert_eq!(page1.body["items"][0]["number"], "00007");
    let page2 = app.get("/api/v1/reservations?page=2", &dupont.token).await;
    assert_eq!(page2.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(page2.body["items"][1]["number"], "00001");
    let by_number = app.get("/api/v1/reservations?q=00003", &dupont.token).await;
    assert_eq!(by_number.body["total"], 1);
    assert_eq!(by_number.body["items"][0]["number"], "00003");
    let by_name = app.get("/api/v1/reservations?q=herv", &dupont.token).await;
    assert_eq!(by_name.body["total"], 7);
    let by_status = app
        .get("/api/v1/reservations?status=paid", &dupont.token)
        .await;
    assert_eq!(by_status.body["total"], 0);
    app.get("/api/v1/reservations?status=nonsense", &dupont.token)
        .await
        .assert_problem(400, "invalid_parameter");
    app.get("/api/v1/reservations?per_page=0", &dupont.token)
        .await
        .assert_problem(400, "invalid_parameter");
}
