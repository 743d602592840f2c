//! Credit notes: paid days cancelled in time are credited to the family. The cancellation is a
//! `DaysCancelled` event with its `credited` amount; its credit note (numbered `AV-…`) follows,
//! issued once per cancellation event. The cancel route issues it at once; a sweep issues any
//! that a crash between the two left out.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::app::invoicing;
use crate::app::Cantine;
use crate::db;
use crate::domain::invoice::{InvoiceDraft, InvoiceIssued, InvoiceKind};

pub fn key(reservation_id: Uuid, sequence: i64) -> String {
    format!("credit:{reservation_id}:{sequence}")
}

/// Issues the credit notes still missing, for one reservation or for all. Answers those issued.
pub async fn issue_missing(
    state: &Cantine,
    reservation_id: Option<Uuid>,
    request_id: &str,
) -> anyhow::Result<Vec<InvoiceIssued>> {
    let missing =
        db::invoices::uncredited_cancellations(&state.pool, state.organisation.id, reservation_id)
            .await?;
    let mut issued = Vec::new();
    for cancelled in missing {
        let (id, sequence) = (cancelled.reservation_id, cancelled.sequence);
        let reservation = state.commands.load(id).await?;
        let Some(requested) = reservation.requested.as_ref() else {
            continue;
        };
        if requested.organisation_id != state.organisation.id {
            continue;
        }
        let days: Vec<(NaiveDate, Decimal)> = reservation
            .days
            .iter()
            .filter(|d| cancelled.days.contains(&d.date))
            .map(|d| (d.date, d.unit_price))
            .collect();
        let draft = InvoiceDraft {
            invoice_id: Uuid::now_v7(),
            issuer: invoicing::issuer(&state.organisation),
            family_id: requested.family_id,
            family_name: invoicing::family_name(&state.pool, requested.family_id).await?,
            kind: InvoiceKind::CreditNote,
            payment_id: reservation.paid_by,
            month: None,
            lines: invoicing::reservation_lines(id, requested, &days),
        };
        if let Some(note) = invoicing::issue_once(
            &state.pool,
            state.clock.as_ref(),
            &key(id, sequence),
            draft,
            request_id,
        )
        .await?
        {
            issued.push(note);
        }
    }
    Ok(issued)
}
