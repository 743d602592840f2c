//! Reminds a family, once, `CANTINE_HOLD_REMINDER_MINUTES` (15) before a prepaid hold's payment
//! deadline, by the injected clock. The reminder is recorded in the outbox keyed by the hold's
//! confirmation event (and its kind), so two servers or a restart record it once; the sender
//! sends it.

use std::time::Duration;

use crate::app::Cantine;
use crate::db;

const EVERY: Duration = Duration::from_secs(5);

pub fn spawn(state: Cantine) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_once(&state).await {
                tracing::error!(error = format!("{e:#}"), "hold reminders failed");
            }
            tokio::time::sleep(EVERY).await;
        }
    })
}

/// One pass: answers how many holds it looked at.
pub async fn run_once(state: &Cantine) -> anyhow::Result<usize> {
    state.fresh(crate::projections::reservations::NAME).await;
    let now = state.clock.now();
    let until = now + chrono::Duration::minutes(i64::from(state.hold_reminder_minutes));
    let holds = db::mail_outbox::holds_near_deadline(&state.pool, now, until).await?;
    for hold in &holds {
        crate::projections::notifications::record_hold_reminder(
            &state.pool,
            hold.id,
            hold.confirmed_position,
            hold.total,
            hold.pay_before,
            now,
        )
        .await?;
    }
    Ok(holds.len())
}
