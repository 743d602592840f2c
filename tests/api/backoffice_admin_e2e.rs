//! The administrators' back office walked in a real browser: the real server on a real
//! database with the demo, driven by `e2e/backoffice_admin.mjs` in headless Chromium with
//! axe-core on every page. Screenshots land in `docs/screenshots/` (numbers 50 to 69).
//!
//! This test fails, never skips, when Chromium or the node modules are missing: `.ci/run`
//! installs them (`apt-get install -y chromium`, `npm ci --prefix e2e`).

use std::path::Path;
use std::time::Duration;

use cantine::accounts::Role;

use crate::helpers::*;

const CHROMIUM: &str = "/usr/bin/chromium";

fn require(condition: bool, what: &str) {
    assert!(
        condition,
        "the back office's browser test needs {what}: run `apt-get install -y chromium` and \
         `npm ci --prefix e2e` (as .ci/run does)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administration_in_a_browser() {
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
    let (login, password, _) = cantine::demo::LOGINS
        .into_iter()
        .find(|(_, _, role)| *role == Role::Admin)
        .expect("the demo's administrator");

    let run = tokio::process::Command::new("node")
        .arg(root.join("e2e/backoffice_admin.mjs"))
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
        "the administration walk failed in the browser:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("administration walked"), "{stdout}");
    // The families created in the browser are the API's.
    let (created,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM families f JOIN users u ON u.family_id = f.id
          WHERE u.login = 'leroy@example.fr' AND f.quotient_familial = 450",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(created, 1);
    assert_eq!(app.mail_to("leroy@example.fr").len(), 1);
}
