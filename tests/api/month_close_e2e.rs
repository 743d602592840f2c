//! Issue 16's browser walk (`e2e/month_close.mjs`): on the demo, the Dupont and Martin children
//! eat at the billed-later Carcassonne restaurant in January; once January has ended by the
//! clock, the month is billed. The Dupont family pays its monthly invoice online from "Mes
//! factures", finance then finds only the Martin family among the debtors, records its cheque, and
//! the list is empty; the log then says both invoices are settled. Screenshots 70-79.

use std::str::FromStr;

use cantine::app::invoicing;
use cantine::domain::account::Role;
use cantine::domain::money::french_euros;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::browser::{demo_app_for_walk, demo_login, run_walk};
use crate::helpers::*;

async fn child(app: &TestApp, token: &str) -> Family {
    let family = app
        .get("/api/v1/family", token)
        .await
        .assert_status(200)
        .clone();
    Family {
        id: family["id"].as_str().unwrap().into(),
        token: token.into(),
        child_id: family["children"][0]["id"].as_str().unwrap().into(),
    }
}

async fn debtors(app: &TestApp, finance: &str) -> Vec<Value> {
    app.get("/api/v1/finance/debtors", finance)
        .await
        .assert_status(200)
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_family_pays_its_monthly_invoice_online_and_finance_records_a_cheque() {
    let app = demo_app_for_walk().await;
    let (dupont_login, dupont_password, _) = cantine::app::demo::LOGINS[0];
    let (martin_login, martin_password, _) = cantine::app::demo::LOGINS[1];
    let dupont = child(&app, &app.token(dupont_login, dupont_password).await).await;
    let martin = child(&app, &app.token(martin_login, martin_password).await).await;
    let establishments = app
        .get("/api/v1/establishments", &dupont.token)
        .await
        .assert_status(200)
        .clone();
    let carcassonne = establishments
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"].as_str().unwrap().contains("Carcassonne"))
        .expect("the demo's billed-later restaurant");
    let canteen = Canteen {
        admin: String::new(),
        restaurant_id: carcassonne["id"].as_str().unwrap().into(),
        period_id: carcassonne["periods"][0]["id"].as_str().unwrap().into(),
    };
    book_and_confirm(&app, &canteen, &dupont, &["2017-01-23", "2017-01-26"]).await;
    book_and_confirm(&app, &canteen, &martin, &["2017-01-23"]).await;

    // February the 1st: January has ended by the clock, and is billed.
    app.wait_seconds(21 * 24 * 3600);
    all_fresh(&app).await;
    let run = invoicing::issue_month(
        &app.pool,
        app.state.clock.as_ref(),
        &app.state.organisation,
        "2017-01",
        None,
        "walk",
    )
    .await
    .expect("January billed");
    all_fresh(&app).await;
    let finance = app.staff_token(Role::Finance).await;
    let owing = debtors(&app, &finance).await;
    assert_eq!(owing.len(), 2, "{owing:?} after {run:?}");
    let of = |id: &str| {
        owing
            .iter()
            .find(|d| d["family_id"] == id)
            .unwrap_or_else(|| panic!("{id} owes nothing: {owing:?}"))
            .clone()
    };
    let (payer, debtor) = (of(&dupont.id), of(&martin.id));
    let due = |d: &Value| french_euros(Decimal::from_str(d["due"].as_str().unwrap()).unwrap());
    let expect = json!({
        "payer": payer["family_name"],
        "payer_due": due(&payer),
        "payer_invoice": payer["invoices"][0]["number"],
        "debtor": debtor["family_name"],
        "debtor_due": due(&debtor),
    })
    .to_string();

    let (finance_login, finance_password) = demo_login(Role::Finance);
    run_walk(
        "month_close.mjs",
        &[
            app.address.as_str(),
            dupont_login,
            dupont_password,
            finance_login,
            finance_password,
        ],
        &[("EXPECT", &expect)],
        "month close walked",
    )
    .await;

    // What the pages showed is what the log now says: nobody owes; one online payment of the
    // Dupont invoice and one cheque with its receipt number for the Martin one.
    all_fresh(&app).await;
    assert_eq!(debtors(&app, &finance).await, Vec::<Value>::new());
    let (cheques,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM events WHERE event_type = 'DeskPaymentRecorded'
            AND payload->'DeskPaymentRecorded'->>'method' = 'cheque'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(cheques, 1);
}
