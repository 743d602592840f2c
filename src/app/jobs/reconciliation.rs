//! Places are taken and given back in the transaction that appends the events, so they cannot
//! drift from the log through the service. Anything else (a hand edit, a restore, a bug) is
//! caught here: held days are compared with what the event log says is held (through the
//! reservations projection, brought up to date first), and the places with the held days.
//! Every repair is logged.

use std::time::Duration;

use sqlx::PgPool;

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
    sqlx::query("LOCK TABLE places, held_days IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
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
    let released = sqlx::query(
        "DELETE FROM held_days h
          WHERE NOT EXISTS (SELECT 1 FROM reservation_view r
                             WHERE r.id = h.reservation_id AND h.date = ANY(r.dates)
                               AND day_status(h.date = ANY(r.cancelled_dates), r.status)
                                   IN ('requested', 'awaiting_payment', 'booked'))",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let restored = sqlx::query(
        "INSERT INTO held_days (reservation_id, child_id, restaurant_id, service, date)
         SELECT r.id, r.child_id, r.restaurant_id, r.service, d.date
           FROM reservation_view r, unnest(r.dates) AS d(date)
          WHERE day_status(d.date = ANY(r.cancelled_dates), r.status)
                IN ('requested', 'awaiting_payment', 'booked')
            AND NOT EXISTS (SELECT 1 FROM held_days h WHERE h.reservation_id = r.id AND h.date = d.date)
         ON CONFLICT DO NOTHING",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // The check constraint taken <= capacity stays: a day found over capacity gets its capacity
    // raised to what the log holds, rather than places taken away from families.
    let recounted = sqlx::query(
        "WITH counted AS (
            SELECT p.restaurant_id, p.service, p.date, count(h.date)::int AS held
              FROM places p
              LEFT JOIN held_days h ON h.restaurant_id = p.restaurant_id AND h.service = p.service AND h.date = p.date
             GROUP BY p.restaurant_id, p.service, p.date)
         UPDATE places p SET taken = c.held, capacity = GREATEST(p.capacity, c.held)
           FROM counted c
          WHERE p.restaurant_id = c.restaurant_id AND p.service = c.service AND p.date = c.date AND p.taken <> c.held",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
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
