//! Unpaid monthly invoices are followed up: a first reminder e-mailed `CANTINE_REMINDER_FIRST_DAYS`
//! after the invoice was issued (15 by default), a second and last one after
//! `CANTINE_REMINDER_SECOND_DAYS` (30), each only while something is left to pay. Each reminder
//! is recorded as the invoice's `InvoiceReminderSent` event, the once-only decision (two servers
//! cannot both append it); its e-mail is decided from that event by the notifications consumer
//! into the outbox and sent from there, with retries.

use crate::app::queries::debtors::debtors;
use crate::app::Cantine;
use crate::db;
use crate::domain::invoice::{reminder_due, InvoiceReminderSent};
use crate::store;
use crate::store::commands::CommandMeta;

/// One pass over the debtors; answers how many reminders were recorded.
pub async fn run_once(state: &Cantine) -> anyhow::Result<usize> {
    let (first_days, second_days) = state.reminder_days;
    let owing = debtors(state, None).await.map_err(anyhow::Error::from)?;
    let ids: Vec<uuid::Uuid> = owing
        .iter()
        .flat_map(|d| d.invoices.iter().map(|i| i.invoice_id))
        .collect();
    let sent = db::finance::reminders_sent(&state.pool, &ids).await?;
    let meta = CommandMeta::system("invoice-reminders");
    let mut count = 0;
    for debtor in &owing {
        for invoice in &debtor.invoices {
            let already = sent
                .iter()
                .find(|(id, _)| *id == invoice.invoice_id)
                .map(|(_, n)| *n as u8)
                .unwrap_or(0);
            let Some(level) = reminder_due(invoice.age_days, already, first_days, second_days)
            else {
                continue;
            };
            let reminder = InvoiceReminderSent {
                invoice_id: invoice.invoice_id,
                number: invoice.number.clone(),
                family_id: debtor.family_id,
                level,
                due: invoice.due,
                sent_at: state.clock.now(),
            };
            if !store::invoices::append_reminder(&state.pool, &reminder, &meta).await? {
                continue;
            }
            // The e-mail is the notifications consumer's: decided from this event into the
            // outbox, sent from there with retries.
            count += 1;
        }
    }
    if count > 0 {
        tracing::info!(count, "invoice reminders recorded");
    }
    Ok(count)
}

pub fn spawn(state: Cantine) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_once(&state).await {
                tracing::error!(error = format!("{e:#}"), "invoice reminders failed");
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    })
}
