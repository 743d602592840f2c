//! The guides walked in a real browser: the real server on a real database with the demo (six
//! restaurants, the Dupont family), driven by `e2e/first_guide.mjs` and `e2e/second_guide.mjs`
//! in headless Chromium with axe-core on every page. Screenshots land in `docs/screenshots/`.
//!
//! This test fails, never skips, when Chromium or the node modules are missing: `.ci/run`
//! installs them (`apt-get install -y chromium`, `npm ci --prefix e2e`).

use std::path::Path;
use std::time::Duration;

use crate::helpers::*;

const CHROMIUM: &str = "/usr/bin/chromium";

fn require(condition: bool, what: &str) {
    assert!(
        condition,
        "the portal's browser test needs {what}: run `apt-get install -y chromium` and \
         `npm ci --prefix e2e` (as .ci/run does)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_guide_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
    require(
        Path::new(&chromium).exists(),
        "Chromium at /usr/bin/chromium",
    );
    require(
        root.join("e2e/node_modules/playwright-core").exists()
            && root.join("e2e/node_modules/axe-core").exists(),
        "e2e/node_modules (playwright-core, axe-core)",
    );
    let node = std::process::Command::new("node").arg("--version").output();
    require(node.is_ok_and(|o| o.status.success()), "node");

    let app = spawn_app().await;
    // The clock stands at the guide's 14:38 (Paris), so the page must say "avant 15:38".
    app.pause_clock();
    cantine::demo::load_if_empty(&app.pool, &app.state.organisation, guide_now())
        .await
        .expect("load the demo");
    let (login, password, _) = cantine::demo::LOGINS[0];

    let run = tokio::process::Command::new("node")
        .arg(root.join("e2e/first_guide.mjs"))
        .args([&app.address, login, password])
        .env("SCREENSHOTS", root.join("docs/screenshots"))
        .env("CHROMIUM", &chromium)
        .env("DEADLINE", "15:38")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("the browser walk ends within 5 minutes")
        .expect("start node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "the first guide failed in the browser:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("first guide walked"), "{stdout}");
}

/// Runs one walk of `e2e/` against the app; fails with its output unless it ends with `done`.
async fn walk(app: &TestApp, script: &str, done: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
    let (login, password, _) = cantine::demo::LOGINS[0];
    let run = tokio::process::Command::new("node")
        .arg(root.join("e2e").join(script))
        .args([&app.address, login, password])
        .env("SCREENSHOTS", root.join("docs/screenshots"))
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("the browser walk ends within 5 minutes")
        .expect("start node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        output.status.success(),
        "{script} failed in the browser:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(done), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_guide_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
    require(
        Path::new(&chromium).exists(),
        "Chromium at /usr/bin/chromium",
    );
    require(
        root.join("e2e/node_modules/playwright-core").exists()
            && root.join("e2e/node_modules/axe-core").exists(),
        "e2e/node_modules (playwright-core, axe-core)",
    );
    let node = std::process::Command::new("node").arg("--version").output();
    require(node.is_ok_and(|o| o.status.success()), "node");

    let app = spawn_app().await;
    app.pause_clock();
    cantine::demo::load_if_empty(&app.pool, &app.state.organisation, guide_now())
        .await
        .expect("load the demo");
    // Hervé's four days of the first guide, paid: the walk cancels one for a credit note.
    let (login, password, _) = cantine::demo::LOGINS[0];
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

    walk(&app, "second_guide.mjs", "second guide walked").await;

    // What the browser did, as the API sees it.
    let ledger = app.get("/api/v1/ledger", &herve.token).await;
    assert_eq!(ledger.assert_status(200)["credit"], "4.15");
}
