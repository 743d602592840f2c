//! The guides walked in a real browser: the real server on a real database with the demo (six
//! restaurants, the Dupont family), driven by `e2e/first_guide.mjs` and `e2e/second_guide.mjs`
//! in headless Chromium with axe-core on every page. Screenshots land in `docs/screenshots/`.
//!
//! This test fails, never skips, when Chromium or the node modules are missing: `.ci/run`
//! installs them (`apt-get install -y chromium`, `npm ci --prefix e2e`).

use crate::browser::{demo_app_for_walk, run_walk};
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_guide_in_a_browser() {
    // The clock stands at the guide's 14:38 (Paris), so the page must say "avant 15:38".
    let app = demo_app_for_walk().await;
    let (login, password, _) = cantine::app::demo::LOGINS[0];

    run_walk(
        "first_guide.mjs",
        &[&app.address, login, password],
        &[("DEADLINE", "15:38")],
        "first guide walked",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_guide_in_a_browser() {
    let app = demo_app_for_walk().await;
    // Hervé's four days of the first guide, paid: the walk cancels one for a credit note.
    let (login, password, _) = cantine::app::demo::LOGINS[0];
    let token = app.token(login, password).await;
    let family = app.get("/api/v1/family", &token).await;
    let family = family.assert_status(200).clone();
    let child_id = family["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["first_name"] == "Hervé")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let establishments = app.get("/api/v1/establishments", &token).await;
    let repausset = establishments
        .assert_status(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Restaurant Scolaire Le Repausset")
        .unwrap()
        .clone();
    let canteen = Canteen {
        admin: String::new(),
        restaurant_id: repausset["id"].as_str().unwrap().to_string(),
        period_id: repausset["periods"][0]["id"].as_str().unwrap().to_string(),
    };
    let herve = Family {
        id: family["id"].as_str().unwrap().to_string(),
        token,
        child_id,
    };
    let id = book_and_confirm(
        &app,
        &canteen,
        &herve,
        &["2017-01-23", "2017-01-24", "2017-01-27", "2017-01-31"],
    )
    .await;
    pay(&app, &herve, &[&id]).await;

    let (login, password, _) = cantine::app::demo::LOGINS[0];
    run_walk(
        "second_guide.mjs",
        &[&app.address, login, password],
        &[],
        "second guide walked",
    )
    .await;

    // What the browser did, as the API sees it.
    let ledger = app.get("/api/v1/ledger", &herve.token).await;
    assert_eq!(ledger.assert_status(200)["credit"], "4.15");
}
