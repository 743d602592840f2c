//! Issues invoices: after a successful payment (prepaid) and per family and month (billed
//! later, once the month has ended, then corrected by credit notes and supplementary invoices
//! as the month's bookings change: see `domain::month_billing`). The number is taken from a counter row in the same transaction that appends the
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
use crate::domain::month_billing::{self, billing_cutoff, DueDay};
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

/// The key of the `sequence`-th document (from 1) of a family's month: a run that read the
/// month's documents before another run issued one finds its key taken and stops, so two runs
/// never bill the same change twice.
pub fn month_key(month: &str, family_id: Uuid, sequence: usize) -> String {
    format!("month:{month}:{family_id}:{sequence}")
}

/// What a run issued: invoices (first or supplementary) and credit notes.
#[derive(Debug, Default)]
pub struct MonthRun {
    pub invoices: Vec<InvoiceIssued>,
    pub credit_notes: Vec<InvoiceIssued>,
}

/// Bills `month` of billed-later meals: refused (with [`NotDue`]) before the month has ended by
/// `clock`, unless `served_until` names a day of it already served, which bills the days up to
/// it. For each family, the days booked and not cancelled are compared with what the month's
/// documents already bill: days due and not billed get an invoice (a supplementary one after
/// the first), days billed and cancelled since a credit note. A second run issues nothing.
pub async fn issue_month(
    pool: &PgPool,
    clock: &dyn Clock,
    organisation: &Organisation,
    month: &str,
    served_until: Option<NaiveDate>,
    request_id: &str,
) -> anyhow::Result<MonthRun> {
    let cutoff = billing_cutoff(month, served_until, clock.paris_today())?;
    correct_month(
        pool,
        clock,
        organisation,
        month,
        None,
        Some(cutoff),
        request_id,
    )
    .await
}

/// Credits the days of `month` that were billed and are no longer booked (a cancellation after
/// billing), for one family: no invoice is issued here, only at the month's runs.
pub async fn credit_month(
    pool: &PgPool,
    clock: &dyn Clock,
    organisation: &Organisation,
    month: &str,
    family_id: Option<Uuid>,
    request_id: &str,
) -> anyhow::Result<MonthRun> {
    correct_month(
        pool,
        clock,
        organisation,
        month,
        family_id,
        None,
        request_id,
    )
    .await
}

async fn correct_month(
    pool: &PgPool,
    clock: &dyn Clock,
    organisation: &Organisation,
    month: &str,
    family_id: Option<Uuid>,
    cutoff: Option<NaiveDate>,
    request_id: &str,
) -> anyhow::Result<MonthRun> {
    let (first, last) =
        month_bounds(month).ok_or_else(|| anyhow::anyhow!("month must be written YYYY-MM"))?;
    let days = db::invoices::billed_days(pool, organisation.id, first, last, family_id).await?;
    let documents = db::invoices::month_documents(pool, organisation.id, month, family_id).await?;
    let mut families: Vec<Uuid> = days
        .iter()
        .map(|d| d.family_id)
        .chain(documents.iter().map(|d| d.family_id))
        .collect();
    families.sort();
    families.dedup();
    let town = issuer(organisation);
    let mut run = MonthRun::default();
    for family in families {
        let due: Vec<DueDay> = days
            .iter()
            .filter(|d| d.family_id == family)
            .map(|d| DueDay {
                reservation_id: d.reservation_id,
                reservation_number: crate::domain::reservation::format_number(d.number as u64),
                child: d.child.clone(),
                restaurant: d.restaurant_name.clone(),
                period: d.period.clone(),
                issuer: match &d.issuer_name {
                    Some(name) => Issuer {
                        id: organisation.id,
                        name: name.clone(),
                        address: d.issuer_address.clone().unwrap_or_default(),
                    },
                    None => town.clone(),
                },
                date: d.date,
                unit_price: d.unit_price,
            })
            .collect();
        let issued: Vec<InvoiceIssued> = documents
            .iter()
            .filter(|d| d.family_id == family)
            .cloned()
            .collect();
        let corrections = month_billing::corrections(&due, &issued, cutoff);
        if corrections.is_empty() {
            continue;
        }
        let family_name = family_name(pool, family).await?;
        for (i, correction) in corrections.into_iter().enumerate() {
            let kind = correction.kind;
            let draft = InvoiceDraft {
                invoice_id: Uuid::now_v7(),
                issuer: correction.issuer,
                family_id: family,
                family_name: family_name.clone(),
                kind,
                payment_id: None,
                month: Some(month.to_string()),
                lines: correction.lines,
            };
            let key = month_key(month, family, issued.len() + i + 1);
            match issue_once(pool, clock, &key, draft, request_id).await? {
                Some(document) if kind == InvoiceKind::CreditNote => {
                    run.credit_notes.push(document)
                }
                Some(document) => run.invoices.push(document),
                // Another run got there first: what it issued is read again by the next run.
                None => break,
            }
        }
    }
    Ok(run)
}
