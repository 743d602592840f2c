//! The administrators' back office walked in a real browser: the real server on a real
//! database with the demo, driven by `e2e/backoffice_admin.mjs` in headless Chromium with
//! axe-core on every page. Screenshots land in `docs/screenshots/` (numbers 50 to 69).
//!
//! This test fails, never skips, when Chromium or the node modules are missing: `.ci/run`
//! installs them (`apt-get install -y chromium`, `npm ci --prefix e2e`).

use cantine::domain::account::Role;

use crate::browser::{demo_app_for_walk, demo_login, run_walk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administration_in_a_browser() {
    let app = demo_app_for_walk().await;
    let (login, password) = demo_login(Role::Admin);

    run_walk(
        "backoffice_admin.mjs",
        &[&app.address, login, password],
        &[],
        "administration walked",
    )
    .await;
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
