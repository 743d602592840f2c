//! What the browser walks share: a script of `e2e/` (playwright-core, axe-core on every page)
//! run in headless Chromium against a test app, screenshots into `docs/screenshots/`.
//!
//! A missing tool fails the test, never skips it: `.ci/run` installs them
//! (`apt-get install -y chromium`, `npm ci --prefix e2e`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use cantine::domain::account::Role;

use crate::helpers::{guide_now, spawn_app, TestApp};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Fails unless Chromium, node and the e2e node modules are there. Called before anything is
/// set up, so that a missing tool says so first.
pub fn require_browser() {
    let require = |present: bool, what: &str| {
        assert!(
            present,
            "the browser walks need {what}: run `apt-get install -y chromium` and \
             `npm ci --prefix e2e` (as .ci/run does)"
        )
    };
    require(
        Path::new(&chromium()).exists(),
        "Chromium at /usr/bin/chromium",
    );
    let modules: PathBuf = root().join("e2e/node_modules");
    require(
        modules.join("playwright-core").exists() && modules.join("axe-core").exists(),
        "e2e/node_modules (playwright-core, axe-core)",
    );
    let node = std::process::Command::new("node").arg("--version").output();
    require(node.is_ok_and(|o| o.status.success()), "node");
}

/// The demo's town at the guide's moment (14:38, Paris), the clock stopped there, for a walk;
/// fails first when the browser is missing.
pub async fn demo_app_for_walk() -> TestApp {
    require_browser();
    let app = spawn_app().await;
    app.pause_clock();
    cantine::app::demo::load_if_empty(&app.pool, &app.state.organisation, guide_now())
        .await
        .expect("load the demo");
    app
}

/// The login and password of the demo's first account with `role`.
pub fn demo_login(role: Role) -> (&'static str, &'static str) {
    cantine::app::demo::LOGINS
        .into_iter()
        .find(|(_, _, r)| *r == role)
        .map(|(login, password, _)| (login, password))
        .unwrap_or_else(|| panic!("the demo has no {role:?} account"))
}

/// Runs `e2e/{script}` with `args` and `env`; fails with its output unless it succeeds and
/// prints `done` (its last line), within five minutes.
pub async fn run_walk(script: &str, args: &[&str], env: &[(&str, &str)], done: &str) {
    let mut command = tokio::process::Command::new("node");
    command
        .arg(root().join("e2e").join(script))
        .args(args)
        .env("SCREENSHOTS", root().join("docs/screenshots"))
        .env("CHROMIUM", chromium())
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(300), command.output())
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
