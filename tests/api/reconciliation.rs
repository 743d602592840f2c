//! Finance's month reconciliation balances over random mixes of bookings, payments (succeeded,
//! failed, late), expiries and cancellations: a table of seeds, each a different mix, checked
//! against what the families' reservations and credits say independently of the ledger.

use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;

use crate::first_guide::notify;
use crate::helpers::*;

/// A small deterministic generator: each seed replays the same mix.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % sides as u64) as usize
    }
}

const DAYS: [&str; 8] = [
    "2017-01-23",
    "2017-01-24",
    "2017-01-26",
    "2017-01-27",
    "2017-01-30",
    "2017-01-31",
    "2017-02-02",
    "2017-02-03",
];

fn amount(value: &Value) -> Decimal {
    Decimal::from_str(
        value
            .as_str()
            .unwrap_or_else(|| panic!("an amount: {value}")),
    )
    .unwrap()
}

struct Mix {
    families: Vec<Family>,
    /// Reservations of each family, by index.
    reservations: Vec<Vec<String>>,
    /// Payments started and not yet notified: (family, id, amount).
    pending: Vec<(usize, String, Value)>,
}

async fn play(app: &TestApp, canteen: &Canteen, seed: u64) -> Mix {
    let mut dice = Dice(seed);
    let mut mix = Mix {
        families: Vec::new(),
        reservations: Vec::new(),
        pending: Vec::new(),
    };
    for name in ["DUPONT", "MARTIN", "BERNARD"] {
        mix.families
            .push(family_with_child(app, &canteen.admin, name, "Enfant").await);
        mix.reservations.push(Vec::new());
    }
    for _ in 0..60 {
        let f = dice.roll(mix.families.len());
        let family = &mix.families[f];
        match dice.roll(7) {
            // Book one to three days and confirm.
            0 | 1 => {
                let count = 1 + dice.roll(3);
                let mut days: Vec<&str> = (0..count).map(|_| DAYS[dice.roll(DAYS.len())]).collect();
                days.sort();
                days.dedup();
                // A day the child already has is refused (422): the mix goes on.
                let reply = app
                    .post(
                        "/api/v1/reservations",
                        &family.token,
                        json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": days}),
                    )
                    .await;
                if reply.status.as_u16() == 201 {
                    let id = reply.body["id"].as_str().unwrap().to_string();
                    app.post_empty(&format!("/api/v1/reservations/{id}/confirm"), &family.token)
                        .await
                        .assert_status(200);
                    mix.reservations[f].push(id);
                }
            }
            // Start a payment of everything in the cart.
            2 | 3 => {
                let cart = app.get("/api/v1/cart", &family.token).await;
                let ids: Vec<String> = cart.assert_status(200)["reservations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().to_string())
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                let reply = app
                    .post(
                        "/api/v1/payments",
                        &family.token,
                        json!({"reservation_ids": ids}),
                    )
                    .await;
                if reply.status.as_u16() == 201 {
                    mix.pending.push((
                        f,
                        reply.body["id"].as_str().unwrap().to_string(),
                        reply.body["amount"].clone(),
                    ));
                }
            }
            // The provider answers one pending payment: mostly yes, sometimes no.
            4 => {
                if mix.pending.is_empty() {
                    continue;
                }
                let (_, id, amount) = mix.pending.remove(dice.roll(mix.pending.len()));
                let status = if dice.roll(4) == 0 {
                    "failed"
                } else {
                    "succeeded"
                };
                notify(
                    app,
                    &id,
                    json!({"status": status, "amount": amount, "provider_ref": format!("PSP-{id}")}),
                    PAYMENT_SECRET,
                )
                .await
                .assert_status(200);
            }
            // Cancel a day (or all) of one of the family's reservations.
            5 => {
                if mix.reservations[f].is_empty() {
                    continue;
                }
                let id = &mix.reservations[f][dice.roll(mix.reservations[f].len())];
                let detail = app
                    .get(&format!("/api/v1/reservations/{id}"), &family.token)
                    .await;
                let days: Vec<String> = detail.assert_status(200)["days"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|d| d["status"] != "cancelled")
                    .map(|d| d["date"].as_str().unwrap().to_string())
                    .collect();
                if days.is_empty() {
                    continue;
                }
                let body = if dice.roll(2) == 0 {
                    json!({"days": [days[dice.roll(days.len())]]})
                } else {
                    json!({})
                };
                let reply = app
                    .post(
                        &format!("/api/v1/reservations/{id}/cancel"),
                        &family.token,
                        body,
                    )
                    .await;
                assert!(
                    [200, 409].contains(&reply.status.as_u16()),
                    "{:?}",
                    reply.body
                );
            }
            // Time passes: unpaid holds expire (a payment may still come later).
            _ => {
                app.advance_clock(&canteen.admin, 61).await;
            }
        }
    }
    // The provider answers whatever is left, late.
    for (_, id, amount) in std::mem::take(&mut mix.pending) {
        notify(
            app,
            &id,
            json!({"status": "succeeded", "amount": amount, "provider_ref": format!("PSP-{id}")}),
            PAYMENT_SECRET,
        )
        .await
        .assert_status(200);
    }
    mix
}

async fn check_month(app: &TestApp, canteen: &Canteen, mix: &Mix, seed: u64) {
    all_fresh(app).await;
    let finance = app
        .staff_token(cantine::domain::account::Role::Finance)
        .await;
    let report = app
        .get("/api/v1/finance/reconciliation?month=2017-01", &finance)
        .await;
    let report = report.assert_status(200).clone();
    assert_eq!(report["balanced"], true, "seed {seed}: {report:#}");
    let totals = &report["totals"];

    // Independently: what the reservations paid now cost, and the credit families still hold.
    let mut paid_reservations_total = Decimal::ZERO;
    let mut credit_held = Decimal::ZERO;
    for (f, family) in mix.families.iter().enumerate() {
        for id in &mix.reservations[f] {
            let detail = app
                .get(&format!("/api/v1/reservations/{id}"), &family.token)
                .await;
            let detail = detail.assert_status(200);
            let was_paid = detail["status"] == "paid"
                || (detail["status"] == "cancelled" && {
                    let (paid,): (bool,) = sqlx::query_as(
                        "SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_id = $1
                           AND event_type IN ('ReservationPaid', 'ReservationReinstated'))",
                    )
                    .bind(id)
                    .fetch_one(&app.pool)
                    .await
                    .unwrap();
                    paid
                });
            if was_paid {
                paid_reservations_total += amount(&detail["total"]);
            }
        }
        let ledger = app.get("/api/v1/ledger", &family.token).await;
        let ledger = ledger.assert_status(200);
        // Prepaid only: a family owes nothing; its balance is the credit it holds.
        assert_eq!(
            ledger["balance"], ledger["credit"],
            "seed {seed}: {ledger:#}"
        );
        credit_held += amount(&ledger["credit"]);
    }
    assert_eq!(
        amount(&totals["invoiced"]) - amount(&totals["credited"]),
        paid_reservations_total,
        "seed {seed}: invoiced − credited is what the paid reservations cost now: {report:#}"
    );
    assert_eq!(
        amount(&totals["outstanding"]),
        -credit_held,
        "seed {seed}: what is outstanding is the families' unspent credit: {report:#}"
    );

    // The CSV exports add up to the same columns.
    let payments_csv = app
        .get_text("/api/v1/finance/exports/payments?month=2017-01", &finance)
        .await;
    let paid: Decimal = payments_csv
        .lines()
        .skip(1)
        .map(|l| Decimal::from_str(l.rsplit(',').next().unwrap()).unwrap())
        .sum();
    assert_eq!(paid, amount(&totals["paid"]), "seed {seed}: {payments_csv}");
    let _ = canteen;
}

#[tokio::test]
async fn the_month_reconciliation_balances_over_random_mixes() {
    for seed in [7_u64, 1_234_567, 987_654_321, 42] {
        let app = spawn_app().await;
        let canteen = setup_repausset(&app).await;
        // Two places a day for three families: expired holds lose their places.
        for day in DAYS {
            app.put(
                &format!("/api/v1/admin/periods/{}/capacity", canteen.period_id),
                &canteen.admin,
                json!({"date": day, "capacity": 2}),
            )
            .await
            .assert_status(200);
        }
        let mix = play(&app, &canteen, seed).await;
        check_month(&app, &canteen, &mix, seed).await;
    }
}

#[tokio::test]
async fn finance_exports_come_in_plain_and_french_csv() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    pay(&app, &family, &[&id]).await;
    app.post(
        &format!("/api/v1/reservations/{id}/cancel"),
        &family.token,
        json!({"days": ["2017-01-24"]}),
    )
    .await
    .assert_status(200);
    all_fresh(&app).await;
    let finance = app
        .staff_token(cantine::domain::account::Role::Finance)
        .await;

    let invoices = app
        .get_text("/api/v1/finance/exports/invoices?month=2017-01", &finance)
        .await;
    let lines: Vec<&str> = invoices.lines().collect();
    assert_eq!(
        lines[0],
        "number,issued_on,family,family_id,kind,month,restaurants,reservations,meals,total"
    );
    assert!(
        lines[1].starts_with("2017-000001,2017-01-11,DUPONT,"),
        "{invoices}"
    );
    assert!(
        lines[1].ends_with(",payment,,Restaurant Scolaire Le Repausset,00001,2,8.30"),
        "{invoices}"
    );

    let credit_notes = app
        .get_text(
            "/api/v1/finance/exports/credit-notes?month=2017-01&format=fr",
            &finance,
        )
        .await;
    assert!(
        credit_notes.starts_with('\u{feff}'),
        "a byte-order mark for spreadsheets"
    );
    let lines: Vec<&str> = credit_notes
        .trim_start_matches('\u{feff}')
        .lines()
        .collect();
    assert!(
        lines[0].starts_with("number;issued_on;family"),
        "{credit_notes}"
    );
    assert!(
        lines[1].starts_with("AV-2017-000001;2017-01-11;DUPONT;"),
        "{credit_notes}"
    );
    assert!(
        lines[1].ends_with(";credit_note;;Restaurant Scolaire Le Repausset;00001;1;4,15"),
        "{credit_notes}"
    );

    let payments = app
        .get_text(
            "/api/v1/finance/exports/payments?month=2017-01&format=fr",
            &finance,
        )
        .await;
    // The provider's reference of the payment (`pay` gives each payment its own).
    let line = payments
        .trim_start_matches('\u{feff}')
        .lines()
        .nth(1)
        .unwrap();
    let payment_id = line.split(';').next().unwrap();
    assert!(
        line.ends_with(&format!(";PSP-{payment_id};1;0,00;8,30")),
        "{payments}"
    );

    let report = app
        .get("/api/v1/finance/reconciliation?month=2017-01", &finance)
        .await;
    let report = report.assert_status(200);
    assert_eq!(report["balanced"], true, "{report:#}");
    assert_eq!(
        report["restaurants"][0],
        json!({"restaurant": "Restaurant Scolaire Le Repausset", "invoiced": "8.30",
               "credited": "4.15", "paid": "8.30", "refunded": "0.00", "outstanding": "-4.15"})
    );
    let csv = app
        .get_csv(
            "/api/v1/finance/reconciliation?month=2017-01&format=fr",
            &finance,
        )
        .await;
    assert!(csv.contains("TOTAL;8,30;4,15;8,30;0,00;-4,15"), "{csv}");

    // Refusals: a bad month, an unknown export, an unknown format.
    app.get("/api/v1/finance/exports/invoices?month=2017-13", &finance)
        .await
        .assert_problem(400, "invalid_parameter");
    app.get("/api/v1/finance/exports/bilan?month=2017-01", &finance)
        .await
        .assert_problem(404, "not_found");
    app.get(
        "/api/v1/finance/reconciliation?month=2017-01&format=xls",
        &finance,
    )
    .await
    .assert_problem(400, "invalid_parameter");
}
