//! Places are taken and given back in the transaction that appends the events, so they cannot
//! drift from the log through the service. Anything else (a hand edit, a restore, a bug) is
//! caught here: held days are compared with what the event log says is held (through the
//! reservations projection, brought up to date first), and the places with the held days.
//! Every repair is logged.

use std::time::Duration;

use sqlx::PgPool;

use crate::db::place_repairs;
use crate::projections::projector::{read_checkpoint, visible_head};
use crate::projections::reservations::NAME as RESERVATIONS;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Repairs {
    /// Held days the log no longer holds: given back.
    pub released: u64,
    /// Days the log holds that had no held day: restored.
    pub restored: u64,
    /// Place counters set back to the number of held days.
    pub recounted: u64,
}

impl Repairs {
    pub fn any(&self) -> bool {
        *self != Repairs::default()
    }
}

pub async fn reconcile(pool: &PgPool) -> anyhow::Result<Repairs> {
    let mut tx = pool.begin().await?;
    // Appends that take or give back places wait meanwhile; reads go on.
    place_repairs::lock_places(&mut tx).await?;
    // With the places locked no event that takes or gives back places can commit, so the
    // newest committed event is a fixed target; the projection must have passed it (the safe
    // head would not do: it lags while any other transaction is open).
    let head = visible_head(&mut tx).await?;
    let mut caught_up = false;
    for _ in 0..500 {
        let mut conn = pool.acquire().await?;
        if read_checkpoint(&mut conn, RESERVATIONS).await? >= head {
            caught_up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::ensure!(
        caught_up,
        "the reservations projection is behind; reconciliation postponed"
    );
    let released = place_repairs::release_unheld(&mut tx).await?;
    let restored = place_repairs::restore_held(&mut tx).await?;
    // The children's meals follow the held days (they are a union of them, kept for the
    // one-meal check): nothing to count apart.
    place_repairs::recount_meals(&mut tx).await?;
    let recounted = place_repairs::recount_places(&mut tx).await?;
    tx.commit().await?;
    let repairs = Repairs {
        released,
        restored,
        recounted,
    };
    if repairs.any() {
        tracing::warn!(?repairs, "places repaired to match the event log");
    }
    Ok(repairs)
}

const EVERY: Duration = Duration::from_secs(15 * 60);

pub fn spawn(pool: PgPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(EVERY).await;
            if let Err(e) = reconcile(&pool).await {
                tracing::warn!(error = format!("{e:#}"), "places reconciliation failed");
            }
        }
    })
}
