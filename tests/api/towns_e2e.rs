//! Issue 19's browser walk (`e2e/towns.mjs`): the demo's two towns on one install, each on its
//! host name, each showing its own name, contact, documents and restaurants only; a host that is
//! no town's lists both portals. Screenshots 80-84; the same two towns under path prefixes of one
//! host, 85-89.

use crate::browser::{require_browser, run_walk};
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_towns_host_shows_its_own_town_in_the_browser() {
    require_browser();
    let database_url = fresh_database().await;
    let pool = cantine::db::connect(&database_url, 2).await.unwrap();
    cantine::app::towns::add_demo_towns(&pool, guide_now())
        .await
        .expect("the demo's towns");
    pool.close().await;
    let towns = serve_towns(database_url).await;
    let port = towns[0].port().to_string();
    run_walk("towns.mjs", &[&port], &[], "towns walked").await;
}

/// The same walk where one host serves both towns, each under its path prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_towns_prefix_shows_its_own_town_in_the_browser() {
    require_browser();
    let database_url = fresh_database().await;
    let pool = cantine::db::connect(&database_url, 2).await.unwrap();
    cantine::app::towns::add_demo_towns_at(&pool, guide_now(), |town| {
        let prefix = town.host().split('.').next().unwrap().to_string();
        format!("portail.localhost/{prefix}")
    })
    .await
    .expect("the demo's towns under prefixes");
    pool.close().await;
    let towns = serve_towns(database_url).await;
    let port = towns[0].port().to_string();
    run_walk(
        "towns.mjs",
        &[&port, "prefixes"],
        &[],
        "towns under prefixes walked",
    )
    .await;
}
