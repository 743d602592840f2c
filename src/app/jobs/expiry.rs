//! Expires what holds places past its deadline: requests left unconfirmed, prepaid
//! reservations left unpaid. It finds them in the database
//! (the reservations read model), so a restart forgets none, and the aggregate refuses to expire
//! anything twice, so two runs (or two servers) never do.

use std::time::Duration;

use uuid::Uuid;

use crate::app::Cantine;
use crate::db;
use crate::domain::reservation::{ReservationCommand, ReservationError};
use crate::store::commands::{CommandError, CommandMeta};

const EVERY: Duration = Duration::from_secs(5);
/// At most this many a pass; the next pass takes the rest.
const BATCH: i64 = 1000;

pub fn spawn(state: Cantine) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = expire_due(&state).await {
                tracing::error!(error = %e, "expiry pass failed");
            }
            let _ = tokio::time::timeout(EVERY, state.expiry_wake.notified()).await;
        }
    })
}

/// One pass: answers how many reservations it expired.
pub async fn expire_due(state: &Cantine) -> anyhow::Result<usize> {
    // Projections first, so that a reservation confirmed a moment ago is seen.
    state.fresh(crate::projections::reservations::NAME).await;
    let due = db::expiry_due::due(&state.pool, state.clock.now(), BATCH).await?;
    let mut expired = 0;
    for id in due {
        let meta = CommandMeta::system(format!("expiry-{}", Uuid::now_v7()));
        match state
            .commands
            .execute(id, ReservationCommand::Expire, &meta)
            .await
        {
            Ok(_) => {
                expired += 1;
                tracing::info!(reservation = %id, "reservation expired unpaid");
            }
            // Paid or expired meanwhile (by another server, or a payment that just landed).
            Err(CommandError::Refused(
                ReservationError::AlreadyExpired
                | ReservationError::AlreadyPaid
                | ReservationError::AlreadyCancelled
                | ReservationError::DeadlineNotReached,
            )) => {}
            Err(e) => tracing::warn!(reservation = %id, error = %e, "could not expire"),
        }
    }
    if expired > 0 {
        state.fresh(crate::projections::reservations::NAME).await;
    }
    Ok(expired)
}
