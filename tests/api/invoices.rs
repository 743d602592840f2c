//! Invoice numbers run per organisation and year without a gap, survive rebuilds, and each
//! invoice is issued once; billed-later days are invoiced per family and month.

use cantine::app::invoicing;
use cantine::domain::account::Role;
use cantine::domain::invoice::{lines_for, InvoiceDraft, InvoiceKind};
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

fn draft(app: &TestApp, family_id: Uuid, with_lines: bool) -> InvoiceDraft {
    let day = "2017-01-23".parse().unwrap();
    InvoiceDraft {
        invoice_id: Uuid::now_v7(),
        issuer: invoicing::issuer(&app.state.organisation),
        family_id,
        family_name: "DUPONT".into(),
        kind: InvoiceKind::Payment,
        payment_id: None,
        month: None,
        lines: if with_lines {
            lines_for(
                Uuid::nil(),
                "00001",
                "Hervé DUPONT",
                "Le Repausset",
                "2016-2017",
                &[(day, dec!(4.15))],
            )
        } else {
            Vec::new()
        },
    }
}

async fn numbers(app: &TestApp) -> Vec<String> {
    all_fresh(app).await;
    let rows: Vec<(String,)> = sqlx::query_as("SELECT number FROM invoice_view ORDER BY number")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn numbers_run_without_gaps_per_year_even_when_issuing_fails() {
    let app = spawn_app().await;
    let admin = app.staff_token(Role::Admin).await;
    let family = app
        .post(
            "/api/v1/admin/families",
            &admin,
            json!({"name": "DUPONT", "login": "d@example.fr", "password": "mot-de-passe"}),
        )
        .await;
    let family_id: Uuid = family.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let clock = app.state.clock.clone();

    // Twenty at once: twenty consecutive numbers.
    let issues = (0..20).map(|i| {
        let draft = draft(&app, family_id, true);
        let (pool, clock) = (app.pool.clone(), clock.clone());
        async move {
            invoicing::issue_once(&pool, clock.as_ref(), &format!("test:{i}"), draft, "t").await
        }
    });
    for issued in futures::future::join_all(issues).await {
        assert!(issued.unwrap().is_some());
    }
    // Failing half-way (after the number was taken) leaves no hole; a repeated key takes none.
    assert!(invoicing::issue_once(
        &app.pool,
        clock.as_ref(),
        "broken",
        draft(&app, family_id, false),
        "t"
    )
    .await
    .is_err());
    assert!(invoicing::issue_once(
        &app.pool,
        clock.as_ref(),
        "test:3",
        draft(&app, family_id, true),
        "t"
    )
    .await
    .unwrap()
    .is_none());
    invoicing::issue_once(
        &app.pool,
        clock.as_ref(),
        "after-failure",
        draft(&app, family_id, true),
        "t",
    )
    .await
    .unwrap()
    .unwrap();
    let expected: Vec<String> = (1..=21).map(|n| format!("2017-{n:06}")).collect();
    assert_eq!(numbers(&app).await, expected);

    // A new year starts again at 1.
    app.advance_clock(&admin, 366 * 24 * 60).await;
    let next = invoicing::issue_once(
        &app.pool,
        clock.as_ref(),
        "next-year",
        draft(&app, family_id, true),
        "t",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(next.number, "2018-000001");

    // The number is formatted in SQL: past six digits it grows, as the domain's format does.
    sqlx::query("UPDATE invoice_counters SET last_number = 999999 WHERE year = 2018")
        .execute(&app.pool)
        .await
        .unwrap();
    let big = invoicing::issue_once(
        &app.pool,
        clock.as_ref(),
        "seven-digits",
        draft(&app, family_id, true),
        "t",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(big.number, InvoiceKind::Payment.number(2018, 1_000_000));
    assert_eq!(big.number, "2018-1000000");
    let (stored,): (Value,) = sqlx::query_as(
        "SELECT payload FROM events WHERE aggregate_type = 'Invoice' AND aggregate_id = $1",
    )
    .bind(big.invoice_id.to_string())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, serde_json::to_value(&big).unwrap());

    // A rebuild replays the numbers from the log; it never renumbers.
    let before = numbers(&app).await;
    cantine::projections::rebuild::rebuild(
        &app.pool,
        std::sync::Arc::new(cantine::projections::invoices::InvoicesProjection),
    )
    .await
    .unwrap();
    assert_eq!(numbers(&app).await, before);
}

#[tokio::test]
async fn one_paid_invoice_per_payment_with_the_organisation_on_it() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let a = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    let b = book_and_confirm(&app, &canteen, &family, &["2017-01-26"]).await;
    let settled = pay(&app, &family, &[&a, &b]).await;
    assert_eq!(settled["invoice_numbers"], json!(["2017-000001"]));
    let invoices = app.get("/api/v1/invoices", &family.token).await;
    let invoices = invoices.assert_status(200).as_array().unwrap().clone();
    assert_eq!(invoices.len(), 1);
    let invoice = &invoices[0];
    assert_eq!(invoice["kind"], "payment");
    assert_eq!(invoice["total"], "12.45");
    assert_eq!(
        invoice["issuer"],
        "Communauté de communes Terre de Camargue"
    );
    assert_eq!(
        invoice["issuer_address"],
        "26 Quai des Croisades, 30220 AIGUES-MORTES"
    );
    let lines = invoice["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["child"], "Hervé DUPONT");
    assert_eq!(lines[0]["restaurant"], "Restaurant Scolaire Le Repausset");
    assert_eq!(
        lines[0]["period"],
        "CANTINE SCOLAIRE Restauration Le Repausset 2016-2017"
    );
    assert_eq!(lines[0]["days"], json!(["2017-01-23", "2017-01-24"]));
    assert_eq!(lines[0]["quantity"], 2);
    assert_eq!(lines[0]["amount"], "8.30");
}

#[tokio::test]
async fn billed_later_days_are_invoiced_once_per_family_and_month() {
    let app = spawn_app_at("2025-05-12T07:00:00Z".parse().unwrap()).await;
    let admin = app.staff_token(Role::Admin).await;
    let restaurant = app
        .post(
            "/api/v1/admin/restaurants",
            &admin,
            json!({"name": "Jean Jaurès", "capacity": 150}),
        )
        .await;
    let restaurant_id = restaurant.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut period: Value = repausset_period(&restaurant_id);
    period["label"] = json!("Inscription cantine 2024-2025");
    period["from"] = json!("2024-09-02");
    period["to"] = json!("2025-07-04");
    period["closures"] = json!([]);
    period["booking_cutoff"] = json!({"kind": "days_before", "days": 2, "time": "10:00"});
    period["payment"] = json!({"mode": "postpaid"});
    period["unit_price"] = json!("4.97");
    let period_id = app
        .post("/api/v1/admin/periods", &admin, period)
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let canteen = Canteen {
        admin: admin.clone(),
        restaurant_id,
        period_id,
    };
    let family = family_with_child(&app, &admin, "GARCIA", "Emma").await;
    let id = book_and_confirm(
        &app,
        &canteen,
        &family,
        &["2025-05-15", "2025-05-16", "2025-05-19", "2025-06-02"],
    )
    .await;
    app.post(
        &format!("/api/v1/reservations/{id}/cancel"),
        &family.token,
        json!({"days": ["2025-05-19"]}),
    )
    .await
    .assert_status(200);
    all_fresh(&app).await;

    // May is billed once it has ended: on 1 June (the test runs the job itself).
    app.stop_jobs();
    app.wait_seconds(20 * 24 * 3600);
    let clock = app.state.clock.clone();
    let issued = invoicing::issue_month(
        &app.pool,
        clock.as_ref(),
        &app.state.organisation,
        "2025-05",
        None,
        "t",
    )
    .await
    .unwrap()
    .invoices;
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].number, "2025-000001");
    assert_eq!(issued[0].total, dec!(9.94));
    assert_eq!(
        issued[0].lines[0].days.len(),
        2,
        "the cancelled day and June's are not on May's invoice"
    );
    let again = invoicing::issue_month(
        &app.pool,
        clock.as_ref(),
        &app.state.organisation,
        "2025-05",
        None,
        "t",
    )
    .await
    .unwrap();
    assert!(
        again.invoices.is_empty() && again.credit_notes.is_empty(),
        "a second run issues nothing"
    );

    // Twenty days on, the family's session has ended: it logs in again.
    let login: String = sqlx::query_scalar("SELECT login FROM users WHERE family_id = $1::uuid")
        .bind(&family.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let token = app.token(&login, "mot-de-passe").await;
    let mine = app.get("/api/v1/invoices", &token).await;
    assert_eq!(mine.assert_status(200)[0]["kind"], "monthly");
    assert_eq!(mine.body[0]["month"], "2025-05");

    let finance = app.staff_token(Role::Finance).await;
    let listed = app
        .get(
            "/api/v1/finance/invoices?from=2025-06-01&to=2025-06-30",
            &finance,
        )
        .await;
    assert_eq!(listed.assert_status(200).as_array().unwrap().len(), 1);
    let csv = app
        .raw()
        .await
        .get(format!(
            "{}/api/v1/finance/invoices?from=2025-06-01&to=2025-06-30",
            app.address
        ))
        .bearer_auth(&finance)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "number,issued_on,family,family_id,kind,month,meals,total"
    );
    assert!(
        lines[1].starts_with("2025-000001,2025-06-01,GARCIA,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(",monthly,2025-05,2,9.94"),
        "{}",
        lines[1]
    );
    app.get("/api/v1/finance/invoices", &token)
        .await
        .assert_problem(403, "forbidden");
}
