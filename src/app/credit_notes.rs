//! Credit notes: paid days cancelled in time are credited to the family. The cancellation is a
//! `DaysCancelled` event with its `credited` amount; its credit note (numbered `AV-…`) follows,
//! issued once per cancellation event. The cancel route issues it at once; a sweep issues any
//! that a crash between the two left out.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use crate::app::invoicing;
use crate::app::Cantine;
use crate::domain::invoice::{InvoiceDraft, InvoiceIssued, InvoiceKind};
use crate::domain::reservation::ReservationEvent;

pub fn key(reservation_id: Uuid, sequence: i64) -> String {
    format!("credit:{reservation_id}:{sequence}")
}

/// Issues the credit notes still missing, for one reservation or for all. Answers those issued.
pub async fn issue_missing(
    state: &Cantine,
    reservation_id: Option<Uuid>,
    request_id: &str,
) -> anyhow::Result<Vec<InvoiceIssued>> {
    // Version 1.0 of `DaysCancelled` credited nothing: the filter on `credited` skips it.
    let missing: Vec<(String, i64, String, Value)> = sqlx::query_as(
        "SELECT e.aggregate_id, e.sequence, e.event_version, e.payload FROM events e
          WHERE e.aggregate_type = 'Reservation' AND e.event_type = 'DaysCancelled'
            AND ($2::text IS NULL OR e.aggregate_id = $2)
            AND (e.payload->'DaysCancelled'->>'credited')::numeric > 0
            AND NOT EXISTS (SELECT 1 FROM invoice_keys k WHERE k.organisation_id = $1
                               AND k.key = 'credit:' || e.aggregate_id || ':' || e.sequence)
          ORDER BY e.global_position",
    )
    .bind(state.organisation.id)
    .bind(reservation_id.map(|id| id.to_string()))
    .fetch_all(&state.pool)
    .await?;
    let mut issued = Vec::new();
    for (aggregate_id, sequence, version, payload) in missing {
        let id: Uuid = aggregate_id.parse()?;
        let (_, payload) = crate::domain::upcasting::upcast("DaysCancelled", &version, payload)?;
        let ReservationEvent::DaysCancelled(cancelled) = serde_json::from_value(payload)? else {
            anyhow::bail!("event {aggregate_id}/{sequence} is not a cancellation");
        };
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

/// Every few minutes, the credit notes a crash may have left out.
pub fn spawn_sweep(state: Cantine) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match issue_missing(&state, None, "credit-note-sweep").await {
                Ok(issued) if !issued.is_empty() => {
                    tracing::warn!(count = issued.len(), "credit notes issued by the sweep")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = format!("{e:#}"), "credit note sweep failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(300)).await;
        }
    })
}
