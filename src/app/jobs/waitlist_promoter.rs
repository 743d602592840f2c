//! Gives freed places to the children in line. The days to look at are recorded by the
//! `waitlist_promotion` consumer of the log (and by a capacity raised); each pass claims some
//! for a while (`FOR UPDATE SKIP LOCKED`: two servers take different days), promotes, and
//! deletes the day unless it was marked again meanwhile. A server that dies mid-way leaves its
//! claim to expire; the promotion it was making is found again (its reservation's id follows
//! from the child's place in line), so nobody is promoted twice.

use std::time::Duration;

use crate::app::Cantine;
use crate::db;

const POLL: Duration = Duration::from_millis(200);
/// How long a claimed day is left to its promoter.
const LEASE_SECONDS: i64 = 60;
const BATCH: i64 = 20;

pub fn spawn(state: Cantine) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match promote_due(&state).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "waiting-list pass failed"),
            }
            tokio::time::sleep(POLL).await;
        }
    })
}

/// One pass: answers how many days it looked at.
pub async fn promote_due(state: &Cantine) -> anyhow::Result<usize> {
    let due = db::waitlist::claim_due(&state.pool, LEASE_SECONDS, BATCH).await?;
    for day in &due {
        match crate::app::waitlist::promote(state, day.restaurant_id, &day.service, day.date).await
        {
            Ok(done) => {
                for (child, reservation) in &done.offered {
                    tracing::info!(%child, %reservation, date = %day.date, "waiting list: place offered");
                }
                if done.again {
                    db::waitlist::retry_soon(&state.pool, day).await?;
                } else {
                    db::waitlist::finish_due(&state.pool, day).await?;
                }
            }
            Err(e) => {
                tracing::warn!(date = %day.date, error = %e, "waiting list not promoted; tried again");
                db::waitlist::retry_soon(&state.pool, day).await?;
            }
        }
    }
    Ok(due.len())
}
