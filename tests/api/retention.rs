//! Families gone for years are anonymised; what finance must keep stays.

use cantine::db::retention;
use chrono::Duration;
use serde_json::json;

use crate::first_guide::notify;
use crate::helpers::*;

#[tokio::test]
async fn families_gone_for_years_are_anonymised_and_their_invoices_and_payments_kept() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let martin = family_with_child(&app, &canteen.admin, "MARTIN", "Inès").await;
    // Dupont pays by SEPA direct debit: its mandate holds its account and its name.
    app.post(
        "/api/v1/finance/mandates",
        &canteen.admin,
        json!({"family_id": dupont.id, "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP812",
               "holder": "Hélène Dupont", "rum": "RUM-DUPONT", "signed_on": "2017-01-02"}),
    )
    .await
    .assert_status(201);

    // Dupont books, confirms and pays one day in January 2017: an invoice is issued.
    let reservation = app
        .post(
            "/api/v1/reservations",
            &dupont.token,
            json!({"child_id": dupont.child_id, "period_id": canteen.period_id, "days": ["2017-01-23"]}),
        )
        .await;
    let reservation_id = reservation.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post_empty(
        &format!("/api/v1/reservations/{reservation_id}/confirm"),
        &dupont.token,
    )
    .await
    .assert_status(200);
    let payment = app
        .post(
            "/api/v1/payments",
            &dupont.token,
            json!({"reservation_ids": [reservation_id]}),
        )
        .await;
    let payment_id = payment.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    notify(
        &app,
        &payment_id,
        json!({"status": "succeeded", "amount": "4.15", "provider_ref": "psp-1"}),
        PAYMENT_SECRET,
    )
    .await
    .assert_status(200);
    let invoices_before = app.get("/api/v1/invoices", &dupont.token).await;
    let invoice = invoices_before.assert_status(200)[0].clone();
    eventually("the reservation projected", || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM reservation_view WHERE status = 'paid'")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        n == 1
    })
    .await;

    // Four years later; Martin logged in last year.
    app.wait_seconds(Duration::days(3 * 365).num_seconds());
    let (martin_login,): (String,) =
        sqlx::query_as("SELECT login FROM users WHERE family_id = $1::uuid")
            .bind(&martin.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    app.token(&martin_login, "mot-de-passe").await;
    app.wait_seconds(Duration::days(365).num_seconds());
    let now = app.state.clock.now();

    // Not yet gone for five years; gone for three.
    assert!(retention::gone_families(&app.pool, now, 5)
        .await
        .unwrap()
        .is_empty());
    let gone = retention::gone_families(&app.pool, now, 3).await.unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].to_string(), dupont.id);
    let events_before = app.event_count().await;
    sqlx::query("UPDATE families SET quotient_familial = 450 WHERE id = $1::uuid")
        .bind(&dupont.id)
        .execute(&app.pool)
        .await
        .unwrap();
    retention::anonymise(&app.pool, &gone, now).await.unwrap();

    // Personal data is gone from the reference data, the account and the read model.
    let (name, anonymised, quotient): (String, bool, Option<i32>) = sqlx::query_as(
        "SELECT name, anonymised_at IS NOT NULL, quotient_familial FROM families WHERE id = $1::uuid",
    )
    .bind(&dupont.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((name.as_str(), anonymised), ("Famille anonymisée", true));
    assert_eq!(quotient, None);
    let (holder, iban, revoked): (String, String, bool) = sqlx::query_as(
        "SELECT holder, iban, revoked_at IS NOT NULL FROM sepa_mandates WHERE family_id = $1::uuid",
    )
    .bind(&dupont.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (holder.as_str(), iban.as_str(), revoked),
        ("anonymised", "anonymised", true)
    );
    let (first, last): (String, String) =
        sqlx::query_as("SELECT first_name, last_name FROM children WHERE id = $1::uuid")
            .bind(&dupont.child_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((first.as_str(), last.as_str()), ("Enfant", "anonymisé"));
    let (login, has_password): (String, bool) = sqlx::query_as(
        "SELECT login, password_hash IS NOT NULL FROM users WHERE family_id = $1::uuid",
    )
    .bind(&dupont.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        login.ends_with("@invalid") && !login.contains("dupont"),
        "{login}"
    );
    assert!(!has_password);
    app.get("/api/v1/family", &dupont.token)
        .await
        .assert_problem(401, "unauthorized");
    let (view_name,): (String,) =
        sqlx::query_as("SELECT child_first_name FROM reservation_view WHERE id = $1::uuid")
            .bind(&reservation_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(view_name, "Enfant");
    let (logged,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM login_attempts a JOIN users u ON u.id = a.user_id
          WHERE u.family_id = $1::uuid AND (a.login IS NOT NULL OR a.client <> 'anonymised')",
    )
    .bind(&dupont.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(logged, 0);

    // What finance must keep is kept as issued: the invoice, the payment's amount.
    let (number, total): (String, rust_decimal::Decimal) =
        sqlx::query_as("SELECT number, total FROM invoice_view WHERE family_id = $1::uuid")
            .bind(&dupont.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(number, invoice["number"].as_str().unwrap());
    assert_eq!(total.to_string(), "4.15");
    let (status, amount): (String, rust_decimal::Decimal) =
        sqlx::query_as("SELECT status, amount FROM payments WHERE id = $1::uuid")
            .bind(&payment_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), amount.to_string().as_str()),
        ("succeeded", "4.15")
    );
    // The event log is never edited (names included: see db/retention.rs).
    assert_eq!(app.event_count().await, events_before);

    // Martin, seen last year, is untouched; a second run finds nobody.
    let (martin_name,): (String,) = sqlx::query_as("SELECT name FROM families WHERE id = $1::uuid")
        .bind(&martin.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(martin_name, "MARTIN");
    assert!(retention::gone_families(&app.pool, now, 3)
        .await
        .unwrap()
        .is_empty());
}
