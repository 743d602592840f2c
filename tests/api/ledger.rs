//! Payments, notifications, credits, refunds and the family ledger (issue 5), each case checked
//! in the ledger and the projections afterwards.

use cantine::domain::account::Role;
use serde_json::{json, Value};

use crate::first_guide::notify;
use crate::helpers::*;

async fn start_payment(app: &TestApp, family: &Family, ids: &[&str]) -> Value {
    app.post(
        "/api/v1/payments",
        &family.token,
        json!({"reservation_ids": ids}),
    )
    .await
    .assert_status(201)
    .clone()
}

fn succeeded(amount: &Value, provider_ref: &str) -> Value {
    json!({"status": "succeeded", "amount": amount, "provider_ref": provider_ref})
}

async fn ledger(app: &TestApp, family: &Family) -> Value {
    app.get("/api/v1/ledger", &family.token)
        .await
        .assert_status(200)
        .clone()
}

async fn events_of(app: &TestApp, aggregate_type: &str, aggregate_id: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT event_type FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

async fn reservation_status(app: &TestApp, family: &Family, id: &str) -> String {
    app.get(&format!("/api/v1/reservations/{id}"), &family.token)
        .await
        .assert_status(200)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn family_invoices(app: &TestApp, family: &Family) -> Vec<Value> {
    app.get("/api/v1/invoices", &family.token)
        .await
        .assert_status(200)
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_repeated_success_has_the_effect_of_one_and_the_ledger_balances() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Alice").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    let payment = start_payment(&app, &family, &[&id]).await;
    assert_eq!(payment["amount"], "8.30");
    let payment_id = payment["id"].as_str().unwrap();
    for _ in 0..3 {
        notify(
            &app,
            payment_id,
            succeeded(&payment["amount"], "PSP-1"),
            PAYMENT_SECRET,
        )
        .await
        .assert_status(200);
    }
    assert_eq!(
        events_of(&app, "Payment", payment_id).await,
        ["PaymentStarted", "PaymentSucceeded"]
    );
    assert_eq!(family_invoices(&app, &family).await.len(), 1);
    assert_eq!(reservation_status(&app, &family, &id).await, "paid");
    let ledger = ledger(&app, &family).await;
    let kinds: Vec<&str> = ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["payment", "invoice"]);
    assert_eq!(ledger["entries"][0]["amount"], "8.30");
    assert_eq!(ledger["entries"][1]["amount"], "-8.30");
    assert_eq!(ledger["balance"], "0.00");
}

#[tokio::test]
async fn a_failure_after_the_success_changes_nothing_and_a_success_after_a_failure_counts() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Alice").await;

    // Succeeded, then a late "failed": the success stands.
    let first = book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    let payment = start_payment(&app, &family, &[&first]).await;
    let id = payment["id"].as_str().unwrap();
    notify(
        &app,
        id,
        succeeded(&payment["amount"], "PSP-A"),
        PAYMENT_SECRET,
    )
    .await
    .assert_status(200);
    let late = notify(
        &app,
        id,
        json!({"status": "failed", "amount": "4.15", "provider_ref": "PSP-A"}),
        PAYMENT_SECRET,
    )
    .await;
    assert_eq!(late.assert_status(200)["status"], "succeeded");
    assert_eq!(
        events_of(&app, "Payment", id).await,
        ["PaymentStarted", "PaymentSucceeded"]
    );
    assert_eq!(reservation_status(&app, &family, &first).await, "paid");

    // Failed (card declined), then the provider's retry succeeds: the money counts.
    let second = book_and_confirm(&app, &canteen, &family, &["2017-01-24"]).await;
    let payment = start_payment(&app, &family, &[&second]).await;
    let id = payment["id"].as_str().unwrap();
    let failed = notify(
        &app,
        id,
        json!({"status": "failed", "amount": "4.15", "provider_ref": "PSP-B"}),
        PAYMENT_SECRET,
    )
    .await;
    assert_eq!(failed.assert_status(200)["status"], "failed");
    assert_eq!(
        reservation_status(&app, &family, &second).await,
        "awaiting_payment"
    );
    let after = notify(
        &app,
        id,
        succeeded(&payment["amount"], "PSP-B2"),
        PAYMENT_SECRET,
    )
    .await;
    assert_eq!(after.assert_status(200)["status"], "succeeded");
    assert_eq!(
        events_of(&app, "Payment", id).await,
        ["PaymentStarted", "PaymentFailed", "PaymentSucceeded"]
    );
    assert_eq!(reservation_status(&app, &family, &second).await, "paid");
    assert_eq!(family_invoices(&app, &family).await.len(), 2);
    assert_eq!(ledger(&app, &family).await["balance"], "0.00");
}

#[tokio::test]
async fn a_wrong_signature_or_amount_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Alice").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    let payment = start_payment(&app, &family, &[&id]).await;
    let payment_id = payment["id"].as_str().unwrap();

    notify(
        &app,
        payment_id,
        succeeded(&payment["amount"], "X"),
        "not-the-secret",
    )
    .await
    .assert_problem(401, "invalid_signature");
    notify(
        &app,
        payment_id,
        succeeded(&json!("1.00"), "X"),
        PAYMENT_SECRET,
    )
    .await
    .assert_problem(422, "amount_mismatch");

    assert_eq!(
        events_of(&app, "Payment", payment_id).await,
        ["PaymentStarted"]
    );
    let (status,): (String,) = sqlx::query_as("SELECT status FROM payments WHERE id = $1::uuid")
        .bind(payment_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "pending");
    assert_eq!(
        reservation_status(&app, &family, &id).await,
        "awaiting_payment"
    );
    assert!(family_invoices(&app, &family).await.is_empty());
    let ledger = ledger(&app, &family).await;
    assert_eq!(ledger["entries"].as_array().unwrap().len(), 0);
}

async fn expired(app: &TestApp, family: &Family, id: &str) {
    eventually("the hold expires", || async {
        reservation_status(app, family, id).await == "expired"
    })
    .await;
}

#[tokio::test]
async fn a_success_after_expiry_takes_the_places_again_when_they_are_free() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Alice").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    let payment = start_payment(&app, &family, &[&id]).await;
    app.advance_clock(&canteen.admin, 61).await;
    expired(&app, &family, &id).await;

    let reply = notify(
        &app,
        payment["id"].as_str().unwrap(),
        succeeded(&payment["amount"], "PSP-LATE"),
        PAYMENT_SECRET,
    )
    .await;
    let state = reply.assert_status(200);
    assert_eq!(state["status"], "succeeded");
    assert!(state.get("refunds").is_none(), "{state}");
    assert_eq!(reservation_status(&app, &family, &id).await, "paid");
    let headcounts = app
        .get(
            &format!(
                "/api/v1/restaurants/{}/headcounts?from=2017-01-23&to=2017-01-24",
                canteen.restaurant_id
            ),
            &canteen.admin,
        )
        .await;
    for day in headcounts.assert_status(200).as_array().unwrap() {
        assert_eq!(day["booked"], 1, "{day}");
    }
    let (held,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM held_days WHERE reservation_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(held, 2);
    assert_eq!(family_invoices(&app, &family).await.len(), 1);
    assert_eq!(ledger(&app, &family).await["balance"], "0.00");
}

#[tokio::test]
async fn a_success_after_expiry_whose_places_are_gone_is_refunded() {
    let app = spawn_app().await;
    let admin = app.staff_token(Role::Admin).await;
    let restaurant = app
        .post(
            "/api/v1/admin/restaurants",
            &admin,
            json!({"name": "Petite Cantine", "capacity": 1}),
        )
        .await;
    let restaurant_id = restaurant.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut period = repausset_period(&restaurant_id);
    period["capacity"] = json!(1);
    let period_id = app
        .post("/api/v1/admin/periods", &admin, period)
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let canteen = Canteen {
        admin,
        restaurant_id,
        period_id,
    };
    let late = family_with_child(&app, &canteen.admin, "DUPONT", "Alice").await;
    let quick = family_with_child(&app, &canteen.admin, "MARTIN", "Hugo").await;
    let id = book_and_confirm(&app, &canteen, &late, &["2017-01-23"]).await;
    let payment = start_payment(&app, &late, &[&id]).await;
    app.advance_clock(&canteen.admin, 61).await;
    expired(&app, &late, &id).await;
    // The freed place goes to another family meanwhile.
    let other = book_and_confirm(&app, &canteen, &quick, &["2017-01-23"]).await;

    let payment_id = payment["id"].as_str().unwrap();
    let reply = notify(
        &app,
        payment_id,
        succeeded(&payment["amount"], "PSP-LATE"),
        PAYMENT_SECRET,
    )
    .await;
    let state = reply.assert_status(200).clone();
    assert_eq!(state["status"], "succeeded");
    assert_eq!(state["refunds"][0]["reservation_id"], id.as_str());
    assert_eq!(state["refunds"][0]["reason"], "places_gone");
    // Said again: still one refund.
    notify(
        &app,
        payment_id,
        succeeded(&payment["amount"], "PSP-LATE"),
        PAYMENT_SECRET,
    )
    .await
    .assert_status(200);
    assert_eq!(
        events_of(&app, "Payment", payment_id).await,
        ["PaymentStarted", "PaymentSucceeded", "RefundDue"]
    );
    assert_eq!(reservation_status(&app, &late, &id).await, "expired");
    assert_eq!(
        reservation_status(&app, &quick, &other).await,
        "awaiting_payment"
    );
    assert!(family_invoices(&app, &late).await.is_empty());
    // The family sees it: the payment page and its ledger.
    let shown = app
        .get(&format!("/api/v1/payments/{payment_id}"), &late.token)
        .await;
    assert_eq!(
        shown.assert_status(200)["refunds"][0]["reason"],
        "places_gone"
    );
    let ledger = ledger(&app, &late).await;
    let kinds: Vec<&str> = ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["payment", "refund"]);
    assert_eq!(ledger["balance"], "0.00");
    // Another family cannot see that payment.
    app.get(&format!("/api/v1/payments/{payment_id}"), &quick.token)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn one_payment_for_two_children_gives_one_invoice_with_both() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Alice").await;
    let second_child = app
        .post(
            &format!("/api/v1/admin/families/{}/children", family.id),
            &canteen.admin,
            json!({"first_name": "Paul", "last_name": "DUPONT", "meal_option": "vegetarian"}),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let alice = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    let paul_family = Family {
        id: family.id.clone(),
        token: family.token.clone(),
        child_id: second_child,
    };
    let paul = book_and_confirm(&app, &canteen, &paul_family, &["2017-01-23"]).await;
    let cart = app.get("/api/v1/cart", &family.token).await;
    assert_eq!(cart.assert_status(200)["total"], "12.45");
    let state = pay(&app, &family, &[&alice, &paul]).await;
    assert_eq!(state["invoice_numbers"].as_array().unwrap().len(), 1);
    let invoices = family_invoices(&app, &family).await;
    assert_eq!(invoices.len(), 1);
    let invoice = &invoices[0];
    assert_eq!(invoice["total"], "12.45");
    let children: Vec<&str> = invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["child"].as_str().unwrap())
        .collect();
    assert_eq!(children, ["Alice DUPONT", "Paul DUPONT"]);
    assert_eq!(reservation_status(&app, &family, &alice).await, "paid");
    assert_eq!(reservation_status(&app, &family, &paul).await, "paid");
}

#[tokio::test]
async fn cancelled_paid_days_give_a_credit_note_that_the_next_payment_spends() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Alice").await;
    let first = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    pay(&app, &family, &[&first]).await;

    let cancelled = app
        .post(
            &format!("/api/v1/reservations/{first}/cancel"),
            &family.token,
            json!({"days": ["2017-01-24"]}),
        )
        .await;
    let cancelled = cancelled.assert_status(200);
    assert_eq!(cancelled["credited"], "4.15");
    let note = cancelled["credit_note"].as_str().unwrap().to_string();
    assert!(note.starts_with("AV-2017-"), "{note}");
    let ledger_after_cancel = ledger(&app, &family).await;
    assert_eq!(ledger_after_cancel["balance"], "4.15");
    assert_eq!(ledger_after_cancel["credit"], "4.15");

    // The next payment spends the credit first.
    let second = book_and_confirm(&app, &canteen, &family, &["2017-01-26", "2017-01-27"]).await;
    let cart = app.get("/api/v1/cart", &family.token).await;
    let cart = cart.assert_status(200);
    assert_eq!(cart["total"], "8.30");
    assert_eq!(cart["credit"], "4.15");
    assert_eq!(cart["to_pay"], "4.15");
    let payment = start_payment(&app, &family, &[&second]).await;
    assert_eq!(payment["amount"], "4.15");
    assert_eq!(payment["credit_used"], "4.15");
    // While it is pending, the credit is set aside for it.
    let cart = app.get("/api/v1/cart", &family.token).await;
    assert_eq!(cart.assert_status(200)["credit"], "0.00");
    notify(
        &app,
        payment["id"].as_str().unwrap(),
        succeeded(&payment["amount"], "PSP-2"),
        PAYMENT_SECRET,
    )
    .await
    .assert_status(200);
    let ledger = ledger(&app, &family).await;
    assert_eq!(ledger["balance"], "0.00");
    assert_eq!(ledger["credit"], "0.00");
    // The invoice is for the whole reservation; the credit paid half of it.
    let invoices = family_invoices(&app, &family).await;
    assert!(invoices
        .iter()
        .any(|i| i["kind"] == "credit_note" && i["number"] == note));
    assert!(invoices
        .iter()
        .any(|i| i["kind"] == "payment" && i["total"] == "8.30"));
}

#[tokio::test]
async fn a_credit_that_covers_everything_pays_at_once_and_a_failed_payment_gives_it_back() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Alice").await;
    let first = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    pay(&app, &family, &[&first]).await;
    app.post(
        &format!("/api/v1/reservations/{first}/cancel"),
        &family.token,
        json!({}),
    )
    .await
    .assert_status(200);
    assert_eq!(ledger(&app, &family).await["credit"], "8.30");

    // A payment that fails gives its credit back.
    let second = book_and_confirm(
        &app,
        &canteen,
        &family,
        &["2017-01-26", "2017-01-27", "2017-01-30"],
    )
    .await;
    let payment = start_payment(&app, &family, &[&second]).await;
    assert_eq!(payment["amount"], "4.15");
    assert_eq!(payment["credit_used"], "8.30");
    notify(
        &app,
        payment["id"].as_str().unwrap(),
        json!({"status": "failed", "amount": "4.15", "provider_ref": "DECLINED"}),
        PAYMENT_SECRET,
    )
    .await
    .assert_status(200);
    assert_eq!(ledger(&app, &family).await["credit"], "8.30");

    // Two days: the credit pays it all, no provider involved.
    let third = book_and_confirm(&app, &canteen, &family, &["2017-02-02", "2017-02-03"]).await;
    let payment = start_payment(&app, &family, &[&third]).await;
    assert_eq!(payment["amount"], "0.00");
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(reservation_status(&app, &family, &third).await, "paid");
    let ledger = ledger(&app, &family).await;
    assert_eq!(ledger["credit"], "0.00");
    assert_eq!(ledger["balance"], "0.00");
}

#[tokio::test]
async fn the_simulator_pays_through_the_same_signed_door_as_a_provider() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Alice").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    let payment = start_payment(&app, &family, &[&id]).await;
    let payment_id = payment["id"].as_str().unwrap();
    let redirect = payment["redirect_url"].as_str().unwrap();
    assert_eq!(
        redirect,
        format!("{}/api/v1/payments/{payment_id}/checkout", app.address)
    );
    let page = app.raw().await.get(redirect).send().await.unwrap();
    let page = page.text().await.unwrap();
    // A portal page in French words (issue 20): the amount, and the state not in English.
    assert!(
        page.contains("<dt>Montant</dt><dd><strong>4,15 €</strong></dd>"),
        "{page}"
    );
    assert!(page.contains("en attente de votre choix"), "{page}");
    // The form carries its token, as a browser posts it; without it, nothing is paid.
    let token = page
        .split("name=\"jeton\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form's token");
    let forged = app
        .raw()
        .await
        .post(redirect)
        .form(&[("outcome", "succeeded")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(
        reservation_status(&app, &family, &id).await,
        "awaiting_payment"
    );
    let chosen = app
        .raw()
        .await
        .post(redirect)
        .form(&[("outcome", "succeeded"), ("jeton", token)])
        .send()
        .await
        .unwrap();
    assert!(chosen.text().await.unwrap().contains("Paiement accepté"));
    assert_eq!(reservation_status(&app, &family, &id).await, "paid");
    let (metadata,): (Value,) = sqlx::query_as(
        "SELECT metadata FROM events WHERE aggregate_type = 'Payment' AND aggregate_id = $1 AND sequence = 2",
    )
    .bind(payment_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(metadata["actor_role"], "payment_provider");
}

#[tokio::test]
async fn a_provider_with_its_own_page_gets_the_payer_and_signs_its_notifications() {
    let app = spawn_app_with_payment_page("https://paiement.example/payer").await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Alice").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    let payment = start_payment(&app, &family, &[&id]).await;
    let payment_id = payment["id"].as_str().unwrap();
    let redirect = payment["redirect_url"].as_str().unwrap();
    assert!(
        redirect.starts_with(&format!(
            "https://paiement.example/payer?payment_id={payment_id}&amount=4.15&return_url="
        )),
        "{redirect}"
    );
    assert!(redirect.contains("notify_url="), "{redirect}");
    // The simulator is not there: its pages are not found.
    let page = app
        .raw()
        .await
        .get(format!(
            "{}/api/v1/payments/{payment_id}/checkout",
            app.address
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    notify(
        &app,
        payment_id,
        succeeded(&payment["amount"], "T-1"),
        "wrong",
    )
    .await
    .assert_problem(401, "invalid_signature");
    notify(
        &app,
        payment_id,
        succeeded(&payment["amount"], "T-1"),
        PAYMENT_SECRET,
    )
    .await
    .assert_status(200);
    assert_eq!(reservation_status(&app, &family, &id).await, "paid");
}

#[tokio::test]
async fn a_payment_left_on_the_providers_page_is_superseded_after_its_session() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Alice").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    let first = start_payment(&app, &family, &[&id]).await;
    let first_id = first["id"].as_str().unwrap();
    // Within the provider's session: one pending payment at a time.
    app.post(
        "/api/v1/payments",
        &family.token,
        json!({"reservation_ids": [id]}),
    )
    .await
    .assert_problem(409, "payment_pending");

    // The payer left that page; a quarter of an hour later a new payment supersedes it.
    app.advance_clock(&canteen.admin, 16).await;
    let second = start_payment(&app, &family, &[&id]).await;
    let second_id = second["id"].as_str().unwrap();
    assert_eq!(
        events_of(&app, "Payment", first_id).await,
        ["PaymentStarted", "PaymentFailed"]
    );
    // Should the provider still report the first one paid, the money counts once: the
    // reservation is paid by it and the second payment's money goes back.
    notify(
        &app,
        first_id,
        succeeded(&first["amount"], "LATE"),
        PAYMENT_SECRET,
    )
    .await
    .assert_status(200);
    assert_eq!(reservation_status(&app, &family, &id).await, "paid");
    let state = notify(
        &app,
        second_id,
        succeeded(&second["amount"], "NEW"),
        PAYMENT_SECRET,
    )
    .await;
    assert_eq!(
        state.assert_status(200)["refunds"][0]["reason"],
        "already_paid"
    );
    assert_eq!(family_invoices(&app, &family).await.len(), 1);
    assert_eq!(ledger(&app, &family).await["balance"], "0.00");
}

#[tokio::test]
async fn a_credit_note_left_out_by_a_crash_is_issued_by_the_sweep() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Alice").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    pay(&app, &family, &[&id]).await;
    // Only the sweep called below may issue the missing note: the service's own (at start,
    // then every few minutes) could on a slow machine, and the test would find nothing left.
    app.stop_jobs();
    // The cancellation is stored, then the server dies before its credit note: the command
    // alone, as the cancel route would run it, without what the route does next.
    app.state
        .commands
        .execute(
            id.parse().unwrap(),
            cantine::domain::reservation::ReservationCommand::Cancel {
                actor: cantine::domain::reservation::Actor::System,
                days: Some(vec!["2017-01-24".parse().unwrap()]),
            },
            &cantine::store::commands::CommandMeta::system("crash"),
        )
        .await
        .unwrap();
    assert_eq!(ledger(&app, &family).await["credit"], "0.00");

    let issued = cantine::app::credit_notes::issue_missing(&app.state, None, "sweep")
        .await
        .unwrap();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].number, "AV-2017-000001");
    assert_eq!(issued[0].total.to_string(), "4.15");
    // Once only: the next sweep finds nothing missing.
    assert!(
        cantine::app::credit_notes::issue_missing(&app.state, None, "sweep")
            .await
            .unwrap()
            .is_empty()
    );
    let ledger = ledger(&app, &family).await;
    assert_eq!(ledger["credit"], "4.15");
    assert_eq!(ledger["balance"], "4.15");
}
