//! Billed-later invoices go out by themselves: every hour, the month that has ended (by the
//! injected clock) is billed or corrected (a supplementary invoice for days booked since, a
//! credit note for days cancelled since), and the current month's billed days that were
//! cancelled are credited (a cancellation credits them at once; this catches a crash between
//! the two). Every run issues only the difference, so running again, or on two servers, adds
//! nothing.

use chrono::Datelike;

use crate::app::invoicing::{credit_month, issue_month};
use crate::app::Cantine;
use crate::domain::month_billing::month_of;

/// One pass: bills the month before today's (by the service's clock) and credits this month's
/// cancelled billed days. Answers how many documents were issued.
pub async fn run_once(state: &Cantine) -> anyhow::Result<usize> {
    let today = state.clock.paris_today();
    let current = month_of(today);
    let previous = today
        .with_day(1)
        .and_then(|first| first.pred_opt())
        .map(month_of)
        .unwrap_or_else(|| current.clone());
    state.fresh(crate::projections::reservations::NAME).await;
    let request_id = format!("monthly-invoicing-{previous}");
    let billed = issue_month(
        &state.pool,
        state.clock.as_ref(),
        &state.organisation,
        &previous,
        None,
        &request_id,
    )
    .await?;
    let credited = credit_month(
        &state.pool,
        state.clock.as_ref(),
        &state.organisation,
        &current,
        None,
        &format!("monthly-credits-{current}"),
    )
    .await?;
    let count = billed.invoices.len() + billed.credit_notes.len() + credited.credit_notes.len();
    if count > 0 {
        tracing::info!(month = %previous, invoices = billed.invoices.len(),
            credit_notes = billed.credit_notes.len() + credited.credit_notes.len(),
            "monthly invoices issued");
    }
    Ok(count)
}

pub fn spawn(state: Cantine) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_once(&state).await {
                tracing::error!(error = format!("{e:#}"), "monthly invoicing failed");
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    })
}
