//! The projections off the rush's path (invoices, the ledger, the waiting lists) look at the log
//! on a tick, not at every write, and at once when a request waits for them, on this server or
//! on another one. Their tick is an hour here: only a request's demand can bring them up to
//! date within a test.

use std::time::Duration;

use cantine::config::Settings;
use cantine::projections::projector::{read_checkpoint, visible_head};
use cantine::projections::{invoices, ledger, reservations, Position};
use serde_json::json;

use crate::helpers::*;

fn ticking_hourly(url: String) -> Settings {
    let mut settings = test_settings(url, Some(guide_now()));
    settings.consumer_tick_ms = 3_600_000;
    settings
}

async fn checkpoint(app: &TestApp, name: &str) -> Position {
    read_checkpoint(&mut app.pool.acquire().await.unwrap(), name)
        .await
        .unwrap()
}

async fn head(app: &TestApp) -> Position {
    visible_head(&mut app.pool.acquire().await.unwrap())
        .await
        .unwrap()
}

async fn leads(app: &TestApp, name: &'static str) {
    eventually(&format!("this server leads {name}"), || async {
        app.state.progress.is_leader(name)
    })
    .await;
}

/// A family of the Repausset (paid on booking) that booked and paid two days.
async fn paid_booking(app: &TestApp) -> Family {
    let canteen = setup_repausset(app).await;
    let family = family_with_child(app, &canteen.admin, "DUPONT", "Hervé").await;
    let booked = book_and_confirm(app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    let settled = pay(app, &family, &[&booked]).await;
    assert_eq!(settled["invoice_numbers"], json!(["2017-000001"]));
    family
}

#[tokio::test]
async fn invoices_wait_for_their_tick_unless_a_request_reads_them() {
    let app = spawn_app_from(ticking_hourly(fresh_database().await)).await;
    leads(&app, invoices::NAME).await;
    let family = paid_booking(&app).await;
    let paid = head(&app).await;

    // The reservations follow every write; the invoices and the ledger do not.
    eventually("the reservations pass the payment", || async {
        checkpoint(&app, reservations::NAME).await >= paid
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for name in [invoices::NAME, ledger::NAME] {
        assert!(
            checkpoint(&app, name).await < paid,
            "{name} waits for its tick, an hour away"
        );
    }

    // A page that reads the invoices wakes them, and shows the payment's invoice.
    let invoices = app.get("/api/v1/invoices", &family.token).await;
    let invoices = invoices.assert_status(200).as_array().unwrap().clone();
    assert_eq!(invoices.len(), 1, "{invoices:?}");
    assert_eq!(invoices[0]["number"], "2017-000001");
    assert_eq!(invoices[0]["total"], "8.30");
    assert!(checkpoint(&app, invoices::NAME).await >= paid);
    assert!(
        checkpoint(&app, ledger::NAME).await < paid,
        "only what the request read was woken"
    );
}

#[tokio::test]
async fn a_request_on_another_server_wakes_the_projector_that_leads() {
    let url = fresh_database().await;
    let leader = spawn_app_from(ticking_hourly(url.clone())).await;
    leads(&leader, invoices::NAME).await;
    let other = spawn_app_from(ticking_hourly(url)).await;
    let family = paid_booking(&other).await;
    let paid = head(&other).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(checkpoint(&other, invoices::NAME).await < paid);
    assert!(
        !other.state.progress.is_leader(invoices::NAME),
        "the first server leads the invoices"
    );

    // Its own wait would give up after five seconds and show no invoice: the leader hears the
    // demand.
    let invoices = other.get("/api/v1/invoices", &family.token).await;
    let invoices = invoices.assert_status(200).as_array().unwrap().clone();
    assert_eq!(invoices.len(), 1, "{invoices:?}");
    assert_eq!(invoices[0]["number"], "2017-000001");
    assert!(checkpoint(&leader, invoices::NAME).await >= paid);
}

/// A wait on a server that does not lead tells the leader only for a projection on demand: the
/// reservations' leader follows every write already, and each NOTIFY's commit takes the
/// database's one notification queue lock.
#[tokio::test]
async fn only_a_wait_for_a_projection_on_demand_is_told_to_the_leader() {
    let url = fresh_database().await;
    let leader = spawn_app_from(ticking_hourly(url.clone())).await;
    leads(&leader, invoices::NAME).await;
    leads(&leader, reservations::NAME).await;
    let other = spawn_app_from(ticking_hourly(url)).await;
    let channel: String =
        sqlx::query_scalar("SELECT 'cantine_demands_' || 'events'::regclass::oid::text")
            .fetch_one(&other.pool)
            .await
            .unwrap();
    let mut demands = sqlx::postgres::PgListener::connect_with(&other.pool)
        .await
        .unwrap();
    demands.listen(&channel).await.unwrap();

    paid_booking(&other).await;
    other.state.fresh(reservations::NAME).await;
    let heard = tokio::time::timeout(Duration::from_millis(500), demands.recv()).await;
    assert!(heard.is_err(), "no demand for the reservations: {heard:?}");

    other.state.fresh(invoices::NAME).await;
    let heard = tokio::time::timeout(Duration::from_secs(5), demands.recv())
        .await
        .expect("a demand for the invoices")
        .unwrap();
    assert!(heard.payload().starts_with("invoices "), "{heard:?}");
}
