//! A town closes its month: billed-later meals are invoiced once the month has ended by the
//! service's clock (or up to a served day on purpose), by the organisation that runs the
//! restaurant; changes afterwards give credit notes and supplementary invoices, never an edit.
//! For every family and month: invoiced − credited = the meals the log says are booked.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use uuid::Uuid;

use cantine::app::invoicing;
use cantine::domain::account::Role;
use cantine::domain::invoice::{self, InvoiceDraft, InvoiceKind};
use cantine::domain::reservation::ReservationStatus;

use crate::helpers::*;

const CARCASSONNE: &str = "Ville de Carcassonne – Régie de la restauration scolaire";

/// A billed-later canteen (4.97 €, Monday, Tuesday, Thursday, Friday, booked until two days
/// before at 10:00) run by another organisation than the town.
pub(crate) async fn billed_later_canteen(app: &TestApp) -> Canteen {
    let admin = app.staff_token(Role::Admin).await;
    let restaurant_id = app
        .post(
            "/api/v1/admin/restaurants",
            &admin,
            json!({"name": "Jean Jaurès", "capacity": 150}),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.request(
        reqwest::Method::PATCH,
        &format!("/api/v1/admin/restaurants/{restaurant_id}"),
        Some(&admin),
        Some(json!({"issuer": {"name": CARCASSONNE, "address": "32 rue Aimé Ramond, 11000 Carcassonne"}})),
    )
    .await
    .assert_status(200);
    let mut period: Value = repausset_period(&restaurant_id);
    period["label"] = json!("Inscription cantine 2026-2027");
    period["from"] = json!("2026-09-01");
    period["to"] = json!("2027-07-02");
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
    Canteen {
        admin,
        restaurant_id,
        period_id,
    }
}

/// `cantine invoices issue …` on the test's database, standing at `now`.
async fn issue_cli(app: &TestApp, now: &str, args: &[&str]) -> (bool, String, String) {
    all_fresh(app).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_cantine"))
        .args(["invoices", "issue"])
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("CANTINE_CLOCK", now)
        .env("CANTINE_DEMO", "0")
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run cantine");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

/// Sessions last 12 hours: after moving the clock by days, the family logs in again.
pub(crate) async fn relogin(app: &TestApp, family: &mut Family) {
    let login: String = sqlx::query_scalar("SELECT login FROM users WHERE family_id = $1::uuid")
        .bind(&family.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    family.token = app.token(&login, "mot-de-passe").await;
}

async fn invoice_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = 'Invoice'")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The family's documents of `month`, as `GET /invoices` gives them: (kind, days, total).
async fn month_documents(
    app: &TestApp,
    family: &Family,
    month: &str,
) -> Vec<(String, Value, Decimal)> {
    all_fresh(app).await;
    let listed = app.get("/api/v1/invoices", &family.token).await;
    let mut documents: Vec<(String, Value, Decimal)> = listed
        .assert_status(200)
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["month"] == month)
        .map(|d| {
            let days: Vec<Value> = d["lines"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|l| l["days"].as_array().unwrap().clone())
                .collect();
            (
                d["kind"].as_str().unwrap().to_string(),
                Value::Array(days),
                d["total"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    documents.reverse();
    documents
}

#[tokio::test]
async fn a_month_is_billed_only_once_it_has_ended_and_by_the_restaurants_organisation() {
    let app = spawn_app_at("2026-12-03T08:00:00Z".parse().unwrap()).await;
    app.stop_jobs();
    app.pause_clock();
    let canteen = billed_later_canteen(&app).await;
    let mut family = family_with_child(&app, &canteen.admin, "GARCIA", "Emma").await;
    book_and_confirm(
        &app,
        &canteen,
        &family,
        &["2026-12-07", "2026-12-10", "2026-12-11", "2026-12-17"],
    )
    .await;

    // On 3 December, December has not ended: refused, with the reason, and nothing issued.
    let (ok, _, said) = issue_cli(&app, "2026-12-03T08:00:00Z", &["--month", "2026-12"]).await;
    assert!(!ok, "{said}");
    assert!(said.contains("2026-12 has not ended yet"), "{said}");
    assert!(said.contains("--served-until"), "{said}");
    assert_eq!(invoice_events(&app).await, 0);

    // On the 12th, the days served until the 11th may be billed on purpose; not the 12th.
    app.wait_seconds(9 * 24 * 3600);
    relogin(&app, &mut family).await;
    let (ok, _, said) = issue_cli(
        &app,
        "2026-12-12T08:00:00Z",
        &["--month", "2026-12", "--served-until", "2026-12-12"],
    )
    .await;
    assert!(!ok && said.contains("has not been served yet"), "{said}");
    let (ok, printed, said) = issue_cli(
        &app,
        "2026-12-12T08:00:00Z",
        &["--month", "2026-12", "--served-until", "2026-12-11"],
    )
    .await;
    assert!(ok, "{said}");
    assert!(
        printed.contains("1 invoices and 0 credit notes issued for 2026-12"),
        "{printed} {said}"
    );
    assert!(printed.contains(CARCASSONNE), "{printed}");
    let documents = month_documents(&app, &family, "2026-12").await;
    assert_eq!(
        documents,
        vec![(
            "monthly".to_string(),
            json!(["2026-12-07", "2026-12-10", "2026-12-11"]),
            dec!(14.91)
        )]
    );
    let listed = app.get("/api/v1/invoices", &family.token).await;
    assert_eq!(listed.body[0]["issuer"], CARCASSONNE);

    // A day booked after that run is billed by the next one, with the rest of the month.
    let late = book_and_confirm(&app, &canteen, &family, &["2026-12-15"]).await;
    assert!(!late.is_empty());
    let (ok, printed, said) =
        issue_cli(&app, "2027-01-02T08:00:00Z", &["--month", "2026-12"]).await;
    assert!(ok, "{said}");
    assert!(
        printed.contains("1 invoices and 0 credit notes"),
        "{printed}"
    );
    let documents = month_documents(&app, &family, "2026-12").await;
    assert_eq!(documents.len(), 2, "{documents:?} {printed}");
    assert_eq!(
        documents[1],
        (
            "monthly".to_string(),
            json!(["2026-12-17", "2026-12-15"]),
            dec!(9.94)
        ),
        "a supplementary invoice (reservation 00001, then 00002); the first one is unchanged"
    );
    assert_eq!(documents[0].2, dec!(14.91));
    let (ok, printed, _) = issue_cli(&app, "2027-01-02T08:00:00Z", &["--month", "2026-12"]).await;
    assert!(
        ok && printed.contains("0 invoices and 0 credit notes"),
        "{printed}"
    );
}

/// December invoiced on 3 December, as the command did before it looked at the clock: the
/// invoice is never edited, the cancelled day is credited and the late booking billed.
#[tokio::test]
async fn changes_after_billing_give_a_credit_note_and_a_supplementary_invoice() {
    let app = spawn_app_at("2026-12-03T08:00:00Z".parse().unwrap()).await;
    app.stop_jobs();
    app.pause_clock();
    let canteen = billed_later_canteen(&app).await;
    let mut family = family_with_child(&app, &canteen.admin, "GARCIA", "Emma").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2026-12-10", "2026-12-17"]).await;
    all_fresh(&app).await;
    let early = early_invoice(&app, &family, "2026-12", &id).await;
    assert_eq!(early, dec!(9.94));

    // "ne vous seront pas facturés": cancelling 17/12 gives its credit note at once.
    let cancelled = app
        .post(
            &format!("/api/v1/reservations/{id}/cancel"),
            &family.token,
            json!({"days": ["2026-12-17"]}),
        )
        .await;
    let cancelled = cancelled.assert_status(200);
    assert_eq!(cancelled["credited"], "4.97");
    assert!(
        cancelled["credit_note"]
            .as_str()
            .is_some_and(|n| n.starts_with("AV-2026-")),
        "{cancelled}"
    );
    // Booking 15/12 is billed at the month's run, as a supplementary invoice.
    book_and_confirm(&app, &canteen, &family, &["2026-12-15"]).await;
    app.wait_seconds(29 * 24 * 3600);
    relogin(&app, &mut family).await;
    all_fresh(&app).await;
    let issued = cantine::app::jobs::invoicing_schedule::run_once(&app.state)
        .await
        .unwrap();
    assert_eq!(issued, 1);
    assert_eq!(
        cantine::app::jobs::invoicing_schedule::run_once(&app.state)
            .await
            .unwrap(),
        0,
        "a second run issues nothing"
    );
    let documents = month_documents(&app, &family, "2026-12").await;
    assert_eq!(
        documents,
        vec![
            (
                "monthly".to_string(),
                json!(["2026-12-10", "2026-12-17"]),
                dec!(9.94)
            ),
            ("credit_note".to_string(), json!(["2026-12-17"]), dec!(4.97)),
            ("monthly".to_string(), json!(["2026-12-15"]), dec!(4.97)),
        ]
    );
    let (invoiced, credited) = totals(&documents);
    assert_eq!(invoiced - credited, dec!(9.94), "10/12 and 15/12");
    assert_eq!(due_by_the_log(&app, &family, "2026-12").await, dec!(9.94));
}

/// The invoice the command issued on 3 December before it looked at the clock.
async fn early_invoice(app: &TestApp, family: &Family, month: &str, id: &str) -> Decimal {
    let reservation = app.state.commands.load(id.parse().unwrap()).await.unwrap();
    let requested = reservation.requested.as_ref().unwrap();
    let days: Vec<(NaiveDate, Decimal)> = reservation
        .active_days()
        .filter(|d| cantine::domain::month_billing::month_of(d.date) == month)
        .map(|d| (d.date, d.unit_price))
        .collect();
    let family_id: Uuid = family.id.parse().unwrap();
    let draft = InvoiceDraft {
        invoice_id: Uuid::now_v7(),
        issuer: invoicing::issuer(&app.state.organisation),
        family_id,
        family_name: "GARCIA".into(),
        kind: InvoiceKind::Monthly,
        payment_id: None,
        month: Some(month.into()),
        lines: invoicing::reservation_lines(reservation_id(id), requested, &days),
    };
    invoicing::issue_once(
        &app.pool,
        app.state.clock.as_ref(),
        &format!("monthly:{family_id}:{month}"),
        draft,
        "before-the-fix",
    )
    .await
    .unwrap()
    .map(|i| i.total)
    .unwrap_or_default()
}

fn reservation_id(id: &str) -> Uuid {
    id.parse().unwrap()
}

fn totals(documents: &[(String, Value, Decimal)]) -> (Decimal, Decimal) {
    let sum = |kind: &str| {
        documents
            .iter()
            .filter(|d| d.0 == kind)
            .map(|d| d.2)
            .sum::<Decimal>()
    };
    (sum("monthly"), sum("credit_note"))
}

/// What the log says the family owes for `month`: its confirmed billed-later days not
/// cancelled, each reservation read back from its events.
async fn due_by_the_log(app: &TestApp, family: &Family, month: &str) -> Decimal {
    due_days_by_the_log(app, family, month)
        .await
        .values()
        .copied()
        .sum()
}

async fn due_days_by_the_log(
    app: &TestApp,
    family: &Family,
    month: &str,
) -> BTreeMap<(Uuid, NaiveDate), Decimal> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT aggregate_id FROM events WHERE aggregate_type = 'Reservation'
            AND event_type = 'ReservationRequested'
            AND payload->'ReservationRequested'->>'family_id' = $1",
    )
    .bind(&family.id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut due = BTreeMap::new();
    for id in ids {
        let reservation = app.state.commands.load(id.parse().unwrap()).await.unwrap();
        if reservation.status != ReservationStatus::Confirmed {
            continue;
        }
        for day in reservation.active_days() {
            if cantine::domain::month_billing::month_of(day.date) == month {
                due.insert((id.parse().unwrap(), day.date), day.unit_price);
            }
        }
    }
    due
}

/// What the month's documents bill, day by day (invoices count +1, credit notes −1).
async fn billed_days(
    app: &TestApp,
    family: &Family,
    month: &str,
) -> BTreeMap<(Uuid, NaiveDate), i32> {
    let documents: Vec<sqlx::types::Json<invoice::InvoiceIssued>> = sqlx::query_scalar(
        "SELECT payload FROM events WHERE aggregate_type = 'Invoice'
            AND payload->>'family_id' = $1 AND payload->>'month' = $2",
    )
    .bind(&family.id)
    .bind(month)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut billed = BTreeMap::new();
    for document in documents {
        let sign = if document.kind == InvoiceKind::CreditNote {
            -1
        } else {
            1
        };
        for line in &document.lines {
            for day in &line.days {
                *billed.entry((line.reservation_id, *day)).or_insert(0) += sign;
            }
        }
    }
    billed
}

// The property: random bookings, cancellations, runs (whole months, or up to a served day),
// invoices issued early as before the fix, and moves of the clock. After every step, no day is
// billed that the log does not say is booked (a cancellation is credited at once) and no day is
// billed twice; after a month's run, every day it has booked is billed once; so
// invoiced − credited = what the log says is due. A replay gives the same read models.

#[derive(Clone, Debug)]
enum Step {
    /// Book these opening days (indexes into the calendar below).
    Book(Vec<usize>),
    /// Cancel the n-th booked day still booked, if any.
    Cancel(usize),
    /// The schedule's run (the month that ended, and credits of the current one).
    Run,
    /// The command with --served-until yesterday, for the current month.
    RunServedUntilYesterday,
    /// A month with booked days (the n-th) invoiced at once, as the command did before the fix.
    EarlyInvoice(usize),
    /// Move the clock forward so many days.
    Advance(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => prop::collection::vec(0usize..40, 1..5).prop_map(Step::Book),
        4 => (0usize..8).prop_map(Step::Cancel),
        2 => Just(Step::Run),
        1 => Just(Step::RunServedUntilYesterday),
        2 => (0usize..3).prop_map(Step::EarlyInvoice),
        3 => (1i64..12).prop_map(Step::Advance),
    ]
}

/// Mondays, Tuesdays, Thursdays and Fridays from 30 November 2026, forty of them.
fn calendar() -> Vec<NaiveDate> {
    let mut days = Vec::new();
    let mut day: NaiveDate = "2026-11-30".parse().unwrap();
    while days.len() < 40 {
        use chrono::Datelike;
        if !matches!(
            day.weekday(),
            chrono::Weekday::Wed | chrono::Weekday::Sat | chrono::Weekday::Sun
        ) {
            days.push(day);
        }
        day = day.succ_opt().unwrap();
    }
    days
}

async fn play(steps: Vec<Step>) {
    let start: DateTime<Utc> = "2026-11-23T08:00:00Z".parse().unwrap();
    let app = spawn_app_at(start).await;
    app.stop_jobs();
    app.pause_clock();
    let canteen = billed_later_canteen(&app).await;
    let mut family = family_with_child(&app, &canteen.admin, "MARTIN", "Léo").await;
    let days = calendar();
    let months = ["2026-11", "2026-12", "2027-01", "2027-02"];
    let mut early = std::collections::HashSet::new();
    for step in steps {
        match step {
            Step::Book(indexes) => {
                let wanted: Vec<String> = indexes.iter().map(|i| days[*i].to_string()).collect();
                let reply = app
                    .post(
                        "/api/v1/reservations",
                        &family.token,
                        json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": wanted}),
                    )
                    .await;
                if reply.status == 201 {
                    let id = reply.body["id"].as_str().unwrap().to_string();
                    app.post_empty(&format!("/api/v1/reservations/{id}/confirm"), &family.token)
                        .await
                        .assert_status(200);
                }
            }
            Step::Cancel(n) => {
                all_fresh(&app).await;
                let mut booked: Vec<(Uuid, NaiveDate)> = Vec::new();
                for month in months {
                    booked.extend(due_days_by_the_log(&app, &family, month).await.into_keys());
                }
                if let Some((id, date)) = booked.get(n % booked.len().max(1)).copied() {
                    let reply = app
                        .post(
                            &format!("/api/v1/reservations/{id}/cancel"),
                            &family.token,
                            json!({"days": [date]}),
                        )
                        .await;
                    assert!(
                        [200u16, 409, 422].contains(&reply.status.as_u16()),
                        "{:?}",
                        reply.body
                    );
                }
            }
            Step::Run => {
                all_fresh(&app).await;
                cantine::app::jobs::invoicing_schedule::run_once(&app.state)
                    .await
                    .unwrap();
            }
            Step::RunServedUntilYesterday => {
                all_fresh(&app).await;
                let today = app.state.clock.paris_today();
                let yesterday = today.pred_opt().unwrap();
                let month = cantine::domain::month_billing::month_of(today);
                let run = invoicing::issue_month(
                    &app.pool,
                    app.state.clock.as_ref(),
                    &app.state.organisation,
                    &month,
                    Some(yesterday),
                    "t",
                )
                .await;
                // Refused on the first of a month (yesterday is in the month before).
                assert_eq!(run.is_err(), today.format("%d").to_string() == "01");
            }
            Step::EarlyInvoice(n) => {
                all_fresh(&app).await;
                let mut booked = Vec::new();
                for month in months {
                    if let Some(((id, _), _)) = due_days_by_the_log(&app, &family, month)
                        .await
                        .into_iter()
                        .next()
                    {
                        booked.push((month, id));
                    }
                }
                if let Some((month, id)) = booked.get(n % booked.len().max(1)) {
                    // As the command did, whatever the date: the month's booked days, once.
                    // Only before any run billed the month (the fixed runs came after).
                    if billed_days(&app, &family, month).await.is_empty()
                        && early.insert(month.to_string())
                    {
                        early_invoice(&app, &family, month, &id.to_string()).await;
                    }
                }
            }
            Step::Advance(n) => {
                app.wait_seconds(n * 24 * 3600);
                relogin(&app, &mut family).await;
            }
        }
        // After every step: nothing billed that is not due, nothing billed twice.
        all_fresh(&app).await;
        for month in months {
            let due = due_days_by_the_log(&app, &family, month).await;
            for (day, count) in billed_days(&app, &family, month).await {
                assert!((0..=1).contains(&count), "{day:?} billed {count} times");
                assert!(
                    count == 0 || due.contains_key(&day),
                    "{day:?} billed, not due"
                );
            }
        }
    }
    // Finally the schedule's run after every month has ended: each month's documents add up
    // to what the log says is due.
    app.wait_seconds(120 * 24 * 3600);
    relogin(&app, &mut family).await;
    for month in months {
        all_fresh(&app).await;
        let today = app.state.clock.paris_today();
        invoicing::issue_month(
            &app.pool,
            app.state.clock.as_ref(),
            &app.state.organisation,
            month,
            None,
            "t",
        )
        .await
        .unwrap();
        assert!(cantine::domain::month_billing::billing_cutoff(month, None, today).is_ok());
        let documents = month_documents(&app, &family, month).await;
        let (invoiced, credited) = totals(&documents);
        assert_eq!(
            invoiced - credited,
            due_by_the_log(&app, &family, month).await,
            "{month}: {documents:?}"
        );
    }
    // A replay from zero gives the same invoices, credit notes and balances.
    let all = cantine::projections::all();
    for difference in cantine::projections::rebuild::verify(&app.pool, &all)
        .await
        .unwrap()
        .differences
    {
        assert_eq!(difference.differing_rows, 0, "{}", difference.table);
    }
}

#[test]
fn invoiced_minus_credited_is_what_the_log_says_is_booked() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(step(), 6..20), |steps| {
            runtime.block_on(play(steps));
            Ok(())
        })
        .unwrap();
}

// Paying invoices: the family pays what is left on its monthly invoice through the same
// payment route, provider port and notifications as reservations; its credit (avoirs) first.

async fn notify_success(app: &TestApp, payment: &Value) -> Value {
    let id = payment["id"].as_str().unwrap();
    let body = json!({"status": "succeeded", "amount": payment["amount"], "provider_ref": format!("PSP-{id}")});
    crate::first_guide::notify(app, id, body, PAYMENT_SECRET)
        .await
        .assert_status(200)
        .clone()
}

pub(crate) async fn invoice_view(app: &TestApp, family: &Family, id: &str) -> Value {
    let listed = app.get("/api/v1/invoices", &family.token).await;
    listed
        .assert_status(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_monthly_invoice_is_paid_online_its_credit_first() {
    let app = spawn_app_at("2026-12-03T08:00:00Z".parse().unwrap()).await;
    app.stop_jobs();
    app.pause_clock();
    let canteen = billed_later_canteen(&app).await;
    let family = family_with_child(&app, &canteen.admin, "GARCIA", "Emma").await;
    let other = family_with_child(&app, &canteen.admin, "MARTIN", "Léo").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2026-12-10", "2026-12-17"]).await;
    all_fresh(&app).await;
    early_invoice(&app, &family, "2026-12", &id).await;
    // 17/12 cancelled: a credit note of 4.97, credit the family holds.
    app.post(
        &format!("/api/v1/reservations/{id}/cancel"),
        &family.token,
        json!({"days": ["2026-12-17"]}),
    )
    .await
    .assert_status(200);
    all_fresh(&app).await;
    let listed = app.get("/api/v1/invoices", &family.token).await;
    let invoice = listed
        .assert_status(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "monthly")
        .unwrap()
        .clone();
    let invoice_id = invoice["id"].as_str().unwrap().to_string();
    assert_eq!(
        (&invoice["paid"], &invoice["due"]),
        (&json!("0.00"), &json!("9.94"))
    );

    // Another family cannot pay it; nothing at all to pay is refused.
    app.post(
        "/api/v1/payments",
        &other.token,
        json!({"invoice_ids": [invoice_id]}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        "/api/v1/payments",
        &family.token,
        json!({"invoice_ids": []}),
    )
    .await
    .assert_problem(422, "no_reservations");

    // The credit pays first: the provider is asked for the rest.
    let payment = app
        .post(
            "/api/v1/payments",
            &family.token,
            json!({"invoice_ids": [invoice_id]}),
        )
        .await;
    let payment = payment.assert_status(201).clone();
    assert_eq!(payment["amount"], "4.97");
    assert_eq!(payment["credit_used"], "4.97");
    assert!(payment["redirect_url"]
        .as_str()
        .unwrap()
        .contains(payment["id"].as_str().unwrap()));
    // While the provider has it, the invoice is in that payment only.
    app.post(
        "/api/v1/payments",
        &family.token,
        json!({"invoice_ids": [invoice_id]}),
    )
    .await
    .assert_problem(409, "payment_pending");
    notify_success(&app, &payment).await;
    all_fresh(&app).await;
    let paid = invoice_view(&app, &family, &invoice_id).await;
    assert_eq!(
        (&paid["paid"], &paid["due"]),
        (&json!("9.94"), &json!("0.00"))
    );
    let ledger = app.get("/api/v1/ledger", &family.token).await;
    assert_eq!(ledger.assert_status(200)["balance"], "0.00");
    assert_eq!(ledger.body["credit"], "0.00");
    app.post(
        "/api/v1/payments",
        &family.token,
        json!({"invoice_ids": [invoice_id]}),
    )
    .await
    .assert_problem(409, "invoice_paid");
}

#[tokio::test]
async fn an_invoice_paid_twice_keeps_the_overpayment_as_credit() {
    let app = spawn_app_at("2026-12-03T08:00:00Z".parse().unwrap()).await;
    app.stop_jobs();
    app.pause_clock();
    let canteen = billed_later_canteen(&app).await;
    let mut family = family_with_child(&app, &canteen.admin, "GARCIA", "Emma").await;
    book_and_confirm(&app, &canteen, &family, &["2026-12-10"]).await;
    app.wait_seconds(29 * 24 * 3600);
    relogin(&app, &mut family).await;
    all_fresh(&app).await;
    cantine::app::jobs::invoicing_schedule::run_once(&app.state)
        .await
        .unwrap();
    all_fresh(&app).await;
    let listed = app.get("/api/v1/invoices", &family.token).await;
    let invoice_id = listed.assert_status(200)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(listed.body[0]["due"], "4.97");

    // A first payment left on the provider's page; a second one after the page expired; both
    // end up paid.
    let first = app
        .post(
            "/api/v1/payments",
            &family.token,
            json!({"invoice_ids": [invoice_id]}),
        )
        .await
        .assert_status(201)
        .clone();
    app.wait_seconds(16 * 60);
    let second = app
        .post(
            "/api/v1/payments",
            &family.token,
            json!({"invoice_ids": [invoice_id]}),
        )
        .await
        .assert_status(201)
        .clone();
    notify_success(&app, &second).await;
    notify_success(&app, &first).await;
    notify_success(&app, &first).await;
    all_fresh(&app).await;
    let paid = invoice_view(&app, &family, &invoice_id).await;
    assert_eq!(
        (&paid["paid"], &paid["due"]),
        (&json!("4.97"), &json!("0.00"))
    );
    let ledger = app.get("/api/v1/ledger", &family.token).await;
    assert_eq!(
        ledger.assert_status(200)["credit"],
        "4.97",
        "{}",
        ledger.body
    );
    assert_eq!(ledger.body["balance"], "4.97");
    let kept: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'OverpaymentCredited'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        kept, 1,
        "kept once, however often the provider repeats itself"
    );
}

#[tokio::test]
async fn the_invoice_pages_say_what_is_left_and_pay_it() {
    let app = spawn_app_at("2026-12-03T08:00:00Z".parse().unwrap()).await;
    app.stop_jobs();
    app.pause_clock();
    let canteen = billed_later_canteen(&app).await;
    let mut family = family_with_child(&app, &canteen.admin, "GARCIA", "Emma").await;
    book_and_confirm(&app, &canteen, &family, &["2026-12-10", "2026-12-11"]).await;
    app.wait_seconds(29 * 24 * 3600);
    relogin(&app, &mut family).await;
    all_fresh(&app).await;
    cantine::app::jobs::invoicing_schedule::run_once(&app.state)
        .await
        .unwrap();
    all_fresh(&app).await;
    let listed = app.get("/api/v1/invoices", &family.token).await;
    let invoice_id = listed.assert_status(200)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, page) = cookie_page(&app, "/factures", &family.token).await;
    assert_eq!(status, 200);
    assert!(page.contains("non payée, reste à payer 9,94"), "{page}");
    assert!(
        page.contains(&format!("/factures/{invoice_id}/paiement")),
        "{page}"
    );
    let (_, document) = cookie_page(&app, &format!("/factures/{invoice_id}"), &family.token).await;
    assert!(document.contains("Payer 9,94"), "{document}");
    assert!(
        document.contains(CARCASSONNE),
        "the restaurant's organisation issues it"
    );

    // The button starts the payment and sends the family to the provider's page.
    let csrf = cantine::web::pages::session::csrf_token_for_session(&app.state, &family.token);
    let response = cookie_form(
        &app,
        &format!("/factures/{invoice_id}/paiement"),
        &family.token,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(response.status(), 303);
    let provider_page = location(&response).unwrap();
    let payment_id: String = sqlx::query_scalar("SELECT id::text FROM payments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(provider_page.contains(&payment_id), "{provider_page}");
    notify_success(&app, &json!({"id": payment_id, "amount": "9.94"})).await;
    all_fresh(&app).await;
    let (_, page) = cookie_page(&app, "/factures", &family.token).await;
    assert!(
        page.contains("9,94 € – payée") || page.contains("– payée"),
        "{page}"
    );
    assert!(!page.contains("reste à payer"), "{page}");
}

// Payments at the desk: finance records a cheque, cash or a transfer against a family's
// invoices, with a gapless receipt number and the staff member as the event's actor; a
// mistaken entry is reversed by another event; the month's reconciliation counts them.

#[tokio::test]
async fn finance_records_a_cheque_at_the_desk_and_reverses_a_mistake() {
    let app = spawn_app_at("2026-12-03T08:00:00Z".parse().unwrap()).await;
    app.stop_jobs();
    app.pause_clock();
    let canteen = billed_later_canteen(&app).await;
    let mut family = family_with_child(&app, &canteen.admin, "GARCIA", "Emma").await;
    book_and_confirm(&app, &canteen, &family, &["2026-12-10", "2026-12-11"]).await;
    app.wait_seconds(29 * 24 * 3600);
    relogin(&app, &mut family).await;
    all_fresh(&app).await;
    cantine::app::jobs::invoicing_schedule::run_once(&app.state)
        .await
        .unwrap();
    all_fresh(&app).await;
    let listed = app.get("/api/v1/invoices", &family.token).await;
    let invoice_id = listed.assert_status(200)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let finance = app.staff_token(Role::Finance).await;
    let desk = |body: Value| {
        let app = &app;
        let finance = finance.clone();
        async move { app.post("/api/v1/finance/payments", &finance, body).await }
    };

    // Refusals change nothing.
    let before = app.event_count().await;
    desk(json!({"family_id": family.id, "method": "cheque", "amount": "9.94", "invoice_ids": [invoice_id], "reference": ""}))
        .await
        .assert_problem(422, "reference_required");
    desk(json!({"family_id": family.id, "method": "bitcoin", "amount": "9.94", "invoice_ids": [invoice_id]}))
        .await
        .assert_problem(422, "invalid_method");
    desk(json!({"family_id": family.id, "method": "cash", "amount": "-1.00"}))
        .await
        .assert_problem(422, "invalid_amount");
    desk(json!({"family_id": Uuid::new_v4(), "method": "cash", "amount": "1.00"}))
        .await
        .assert_problem(404, "not_found");
    assert_eq!(app.event_count().await, before);

    // A cheque of 5.00 pays part of the invoice: partly paid, 4.94 left.
    let cheque = desk(
        json!({"family_id": family.id, "method": "cheque", "amount": "5.00",
        "invoice_ids": [invoice_id], "reference": "Chèque n° 1234567, Banque Populaire"}),
    )
    .await;
    let cheque = cheque.assert_status(201).clone();
    assert_eq!(cheque["receipt_number"], "RC-2027-000001");
    all_fresh(&app).await;
    let partly = invoice_view(&app, &family, &invoice_id).await;
    assert_eq!(
        (&partly["paid"], &partly["due"]),
        (&json!("5.00"), &json!("4.94"))
    );
    // Cash of 10.00 for the rest: 4.94 pays it, 5.06 is kept as credit.
    let cash = desk(
        json!({"family_id": family.id, "method": "cash", "amount": "10.00",
        "invoice_ids": [invoice_id]}),
    )
    .await;
    let cash = cash.assert_status(201).clone();
    assert_eq!(cash["receipt_number"], "RC-2027-000002", "gapless");
    assert_eq!(cash["credit_kept"], "5.06");
    all_fresh(&app).await;
    let paid = invoice_view(&app, &family, &invoice_id).await;
    assert_eq!(
        (&paid["paid"], &paid["due"]),
        (&json!("9.94"), &json!("0.00"))
    );
    let ledger = app.get("/api/v1/ledger", &family.token).await;
    assert_eq!(ledger.assert_status(200)["credit"], "5.06");
    assert_eq!(ledger.body["balance"], "5.06");
    // The staff member is the event's actor.
    let (role, actor): (String, String) = sqlx::query_as(
        "SELECT metadata->>'actor_role', metadata->>'actor' FROM events
          WHERE event_type = 'DeskPaymentRecorded' ORDER BY global_position LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(role, "finance");
    let staff: String = sqlx::query_scalar("SELECT id::text FROM users WHERE role = 'finance'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(actor, staff, "the staff member who recorded it");

    // The cash was a mistake: reversed (once), the invoice is partly paid again, the credit
    // taken back.
    let cash_id = cash["id"].as_str().unwrap();
    let path = format!("/api/v1/finance/payments/{cash_id}/reversal");
    app.post(&path, &finance, json!({"reason": "saisi deux fois"}))
        .await
        .assert_status(200);
    app.post(&path, &finance, json!({"reason": "saisi deux fois"}))
        .await
        .assert_problem(409, "already_reversed");
    all_fresh(&app).await;
    let again = invoice_view(&app, &family, &invoice_id).await;
    assert_eq!(
        (&again["paid"], &again["due"]),
        (&json!("5.00"), &json!("4.94"))
    );
    let ledger = app.get("/api/v1/ledger", &family.token).await;
    assert_eq!(ledger.assert_status(200)["credit"], "0.00");
    assert_eq!(ledger.body["balance"], "-4.94");

    // The month's reconciliation counts them and balances; a replay gives the same rows.
    let report = app
        .get("/api/v1/finance/reconciliation?month=2027-01", &finance)
        .await;
    assert_eq!(
        report.assert_status(200)["balanced"],
        true,
        "{}",
        report.body
    );
    let payments_csv = app
        .get_csv("/api/v1/finance/exports/payments?month=2027-01", &finance)
        .await;
    assert!(payments_csv.contains("RC-2027-000001"), "{payments_csv}");
    for difference in cantine::projections::rebuild::verify(&app.pool, &cantine::projections::all())
        .await
        .unwrap()
        .differences
    {
        assert_eq!(difference.differing_rows, 0, "{}", difference.table);
    }
}

// Unpaid invoices followed up: the debtors list (ages, amounts) and its CSV; reminders after
// their delays, each once, and none for a paid invoice.

async fn login_of(app: &TestApp, family: &Family) -> String {
    sqlx::query_scalar("SELECT login FROM users WHERE family_id = $1::uuid")
        .bind(&family.id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The reminders' e-mails to this address in the outbox (subject, text), once there are `n`.
async fn reminder_mails(app: &TestApp, to: &str, n: usize) -> Vec<(String, String)> {
    let read = || async {
        sqlx::query_as::<_, (String, String)>(
            "SELECT subject, text_body FROM mail_outbox
              WHERE kind = 'invoice_reminder' AND recipient = $1 ORDER BY id",
        )
        .bind(to)
        .fetch_all(&app.pool)
        .await
        .unwrap()
    };
    eventually("the reminders' e-mails", || async {
        read().await.len() == n
    })
    .await;
    read().await
}

#[tokio::test]
async fn debtors_are_listed_with_ages_and_reminded_after_their_delays() {
    let app = spawn_app_at("2026-12-03T08:00:00Z".parse().unwrap()).await;
    app.stop_jobs();
    app.pause_clock();
    let canteen = billed_later_canteen(&app).await;
    let garcia = family_with_child(&app, &canteen.admin, "GARCIA", "Emma").await;
    let martin = family_with_child(&app, &canteen.admin, "MARTIN", "Léo").await;
    book_and_confirm(&app, &canteen, &garcia, &["2026-12-10", "2026-12-11"]).await;
    book_and_confirm(&app, &canteen, &martin, &["2026-12-14"]).await;
    app.wait_seconds(29 * 24 * 3600);
    all_fresh(&app).await;
    cantine::app::jobs::invoicing_schedule::run_once(&app.state)
        .await
        .unwrap();
    app.wait_seconds(10 * 24 * 3600);
    let finance = app.staff_token(Role::Finance).await;
    all_fresh(&app).await;
    let listed = app.get("/api/v1/finance/debtors", &finance).await;
    let debtors = listed.assert_status(200).as_array().unwrap().clone();
    assert_eq!(debtors.len(), 2, "{debtors:?}");
    assert_eq!(debtors[0]["family_name"], "GARCIA");
    assert_eq!(debtors[0]["due"], "9.94");
    assert_eq!(debtors[0]["age_days"], 10);
    assert_eq!(debtors[1]["due"], "4.97");
    let csv = app.get_csv("/api/v1/finance/debtors", &finance).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "family,family_id,invoice,month,issued_on,age_days,total,paid,due"
    );
    assert!(lines[1].starts_with("GARCIA,"), "{csv}");
    assert!(
        lines[1].ends_with(",2026-12,2027-01-01,10,9.94,0.00,9.94"),
        "{csv}"
    );

    // Martin pays by cheque at the desk: the list shrinks.
    let martin_invoice = debtors[1]["invoices"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        "/api/v1/finance/payments",
        &finance,
        json!({"family_id": martin.id, "method": "cheque", "amount": "4.97",
               "invoice_ids": [martin_invoice], "reference": "n° 42, Crédit Agricole"}),
    )
    .await
    .assert_status(201);
    all_fresh(&app).await;
    let listed = app.get("/api/v1/finance/debtors", &finance).await;
    assert_eq!(listed.assert_status(200).as_array().unwrap().len(), 1);

    // Day 10: no reminder yet; day 15: the first, once; day 30: the second; Martin none.
    let reminders = cantine::app::jobs::reminders::run_once;
    assert_eq!(reminders(&app.state).await.unwrap(), 0);
    app.wait_seconds(5 * 24 * 3600);
    // Two servers' jobs at once send it once.
    let (one, other) = tokio::join!(reminders(&app.state), reminders(&app.state));
    assert_eq!(one.unwrap() + other.unwrap(), 1, "sent once");
    assert_eq!(reminders(&app.state).await.unwrap(), 0, "sent once");
    // Each reminder's e-mail is decided from its event into the outbox (the sender is stopped
    // with the other jobs here).
    let garcia_login = login_of(&app, &garcia).await;
    let garcia_mail = reminder_mails(&app, &garcia_login, 1).await;
    assert!(
        garcia_mail[0].0.starts_with("Rappel : facture n° 2027-"),
        "{}",
        garcia_mail[0].0
    );
    assert!(garcia_mail[0].1.contains("9,94"), "{}", garcia_mail[0].1);
    app.wait_seconds(15 * 24 * 3600);
    assert_eq!(reminders(&app.state).await.unwrap(), 1);
    assert_eq!(reminders(&app.state).await.unwrap(), 0);
    let garcia_mail = reminder_mails(&app, &garcia_login, 2).await;
    assert!(
        garcia_mail[1].0.starts_with("Second rappel"),
        "{}",
        garcia_mail[1].0
    );
    assert!(
        reminder_mails(&app, &login_of(&app, &martin).await, 0)
            .await
            .is_empty(),
        "paid: no reminder"
    );
    // The reminders are events of the invoice, which itself is unchanged; a replay agrees.
    for difference in cantine::projections::rebuild::verify(&app.pool, &cantine::projections::all())
        .await
        .unwrap()
        .differences
    {
        assert_eq!(difference.differing_rows, 0, "{}", difference.table);
    }
}

#[tokio::test]
async fn finance_records_a_cheque_on_the_debtors_page() {
    let app = spawn_app_at("2026-12-03T08:00:00Z".parse().unwrap()).await;
    app.stop_jobs();
    app.pause_clock();
    let canteen = billed_later_canteen(&app).await;
    let garcia = family_with_child(&app, &canteen.admin, "GARCIA", "Emma").await;
    let martin = family_with_child(&app, &canteen.admin, "MARTIN", "Léo").await;
    book_and_confirm(&app, &canteen, &garcia, &["2026-12-10"]).await;
    book_and_confirm(&app, &canteen, &martin, &["2026-12-14"]).await;
    app.wait_seconds(29 * 24 * 3600);
    all_fresh(&app).await;
    cantine::app::jobs::invoicing_schedule::run_once(&app.state)
        .await
        .unwrap();
    all_fresh(&app).await;
    let finance = app.staff_token(Role::Finance).await;
    let (status, page) = cookie_page(&app, "/gestion/finances/debiteurs", &finance).await;
    assert_eq!(status, 200);
    assert!(page.contains("2 familles doivent"), "{page}");
    assert!(page.contains("GARCIA – 4,97 € à régler"), "{page}");
    let csrf = cantine::web::pages::session::csrf_token_for_session(&app.state, &finance);
    let invoice: String =
        sqlx::query_scalar("SELECT id::text FROM invoice_view WHERE family_id = $1::uuid")
            .bind(&martin.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let form = |reference: &'static str| {
        let (app, finance, csrf, martin, invoice) =
            (&app, &finance, csrf.clone(), &martin, invoice.clone());
        async move {
            cookie_form(
                app,
                "/gestion/finances/encaissements",
                finance,
                &[
                    ("csrf", csrf.as_str()),
                    ("famille", martin.id.as_str()),
                    ("facture", invoice.as_str()),
                    ("methode", "cheque"),
                    ("montant", "4,97"),
                    ("reference", reference),
                ],
            )
            .await
        }
    };
    // A cheque without its number is refused in French, nothing recorded.
    let refused = form("").await;
    assert_eq!(refused.status(), 422);
    let said = refused.text().await.unwrap();
    assert!(
        said.contains("Indiquez le numéro et la banque du chèque"),
        "{said}"
    );
    let recorded = form("n° 42, Crédit Agricole").await;
    assert_eq!(recorded.status(), 303);
    assert_eq!(
        location(&recorded).as_deref(),
        Some("/gestion/finances/debiteurs?recu=RC-2027-000001#contenu")
    );
    all_fresh(&app).await;
    let (_, page) = cookie_page(
        &app,
        "/gestion/finances/debiteurs?recu=RC-2027-000001",
        &finance,
    )
    .await;
    assert!(page.contains("reçu n° RC-2027-000001"), "{page}");
    assert!(page.contains("1 famille doit"), "the list shrinks: {page}");
    assert!(!page.contains("MARTIN – "), "{page}");
    let (status, csv) = cookie_page(&app, "/gestion/finances/debiteurs/export", &finance).await;
    assert_eq!(status, 200);
    assert!(csv.contains("GARCIA") && !csv.contains("MARTIN"), "{csv}");
}
