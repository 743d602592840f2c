//! Issues invoices: after a successful payment (prepaid) and per family and month (billed
//! later). The number is taken from a counter row in the same transaction that appends the
//! `InvoiceIssued` event, so numbers run without a gap, and a key row makes each invoice
//! issued once, even by two servers at the same time.

use chrono::{Datelike, NaiveDate};
use chrono_tz::Europe::Paris;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::db::reference::Organisation;
use crate::domain::clock::Clock;
use crate::domain::invoice::{self, InvoiceDraft, InvoiceIssued, InvoiceKind, InvoiceLine, Issuer};
use crate::domain::period::month_bounds;
use crate::domain::reservation::ReservationRequested;
use crate::store;
use crate::store::commands::CommandMeta;

pub fn issuer(organisation: &Organisation) -> Issuer {
    Issuer {
        id: organisation.id,
        name: organisation.name.clone(),
        address: organisation.address.clone(),
    }
}

/// Issues `draft` unless an invoice with `key` exists. Answers the new invoice, if any.
pub async fn issue_once(
    pool: &PgPool,
    clock: &dyn Clock,
    key: &str,
    draft: InvoiceDraft,
    request_id: &str,
) -> anyhow::Result<Option<InvoiceIssued>> {
    let issued_at = clock.now();
    let year = issued_at.with_timezone(&Paris).year();
    // The number is the counter's, taken by the store with the event; everything else of the
    // invoice is decided here.
    let mut issued = invoice::issue(draft, String::new(), issued_at)?;
    let meta = CommandMeta::system(request_id);
    let Some(number) = store::invoices::append_numbered(pool, key, &issued, year, &meta).await?
    else {
        return Ok(None);
    };
    issued.number = number;
    tracing::info!(invoice = %issued.number, family = %issued.family_id, total = %issued.total, "invoice issued");
    Ok(Some(issued))
}

/// The lines of `days` of one reservation, named as its request captured them.
pub fn reservation_lines(
    reservation_id: Uuid,
    requested: &ReservationRequested,
    days: &[(NaiveDate, Decimal)],
) -> Vec<InvoiceLine> {
    invoice::lines_for(
        reservation_id,
        &crate::domain::reservation::format_number(requested.number),
        &format!(
            "{} {}",
            requested.child.first_name, requested.child.last_name
        ),
        &requested.restaurant.name,
        &format!("{} {}", requested.period.activity, requested.period.label),
        days,
    )
}

pub async fn family_name(pool: &PgPool, family_id: Uuid) -> anyhow::Result<String> {
    Ok(db::invoices::family_name(pool, family_id).await?)
}

pub fn payment_key(payment_id: Uuid) -> String {
    format!("payment:{payment_id}")
}

pub fn monthly_key(family_id: Uuid, month: &str) -> String {
    format!("monthly:{family_id}:{month}")
}

/// Issues the billed-later invoices of `month`: one per family with booked days in it.
/// Answers the invoices issued now (a second run issues none).
pub async fn issue_month(
    pool: &PgPool,
    clock: &dyn Clock,
    organisation: &Organisation,
    month: &str,
    request_id: &str,
) -> anyhow::Result<Vec<InvoiceIssued>> {
    let (first, last) =
        month_bounds(month).ok_or_else(|| anyhow::anyhow!("month must be written YYYY-MM"))?;
    let days = db::invoices::billed_days(pool, organisation.id, first, last).await?;
    let mut issued = Vec::new();
    let mut start = 0;
    while start < days.len() {
        let family_id = days[start].family_id;
        let end = start
            + days[start..]
                .iter()
                .take_while(|d| d.family_id == family_id)
                .count();
        let mut lines: Vec<InvoiceLine> = Vec::new();
        let mut r = start;
        while r < end {
            let reservation = days[r].reservation_id;
            let stop = r + days[r..end]
                .iter()
                .take_while(|d| d.reservation_id == reservation)
                .count();
            let priced: Vec<(NaiveDate, Decimal)> = days[r..stop]
                .iter()
                .map(|d| (d.date, d.unit_price))
                .collect();
            let head = &days[r];
            lines.extend(invoice::lines_for(
                reservation,
                &crate::domain::reservation::format_number(head.number as u64),
                &head.child,
                &head.restaurant_name,
                &head.period,
                &priced,
            ));
            r = stop;
        }
        let draft = InvoiceDraft {
            invoice_id: Uuid::now_v7(),
            issuer: issuer(organisation),
            family_id,
            family_name: family_name(pool, family_id).await?,
            kind: InvoiceKind::Monthly,
            payment_id: None,
            month: Some(month.to_string()),
            lines,
        };
        if let Some(invoice) = issue_once(
            pool,
            clock,
            &monthly_key(family_id, month),
            draft,
            request_id,
        )
        .await?
        {
            issued.push(invoice);
        }
        start = end;
    }
    Ok(issued)
}
