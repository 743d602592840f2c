//! A family's reservations: request days (one by one or by a bulk selection), confirm, cancel
//! some or all days (a paid day's cancellation issues its credit note at once), and the recap
//! lines parents read ("Réservation ajoutée : 15/05/2025 - Prix : 4,97 €"). The domain decides;
//! this module runs its commands for the caller and says what they did in typed values.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::collections::HashSet;
use uuid::Uuid;

use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db::reservation_reads;
use crate::domain::invoice::{InvoiceIssued, InvoiceKind};
use crate::domain::money::french_euros;
use crate::domain::month_billing::month_of;
use crate::domain::period::{DayRefusal, PaymentMode};
use crate::domain::reservation::{
    format_number, LateCancellationGranted, LateReason, RequestedDays, Reservation,
    ReservationCommand, ReservationStatus,
};

/// What became of one asked day: booked, or refused and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayOutcome {
    pub date: NaiveDate,
    /// `None`: booked.
    pub refused: Option<DayRefusal>,
}

impl DayOutcome {
    /// `booked`, or the refusal's stable code (`full`, `closed`, `past_cutoff`...).
    pub fn code(&self) -> &'static str {
        self.refused.map_or("booked", |r| r.outcome())
    }
}

/// A day still held, at its price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricedDay {
    pub date: NaiveDate,
    pub unit_price: Decimal,
}

pub struct Requested {
    pub id: Uuid,
    /// As parents read it: `00014`.
    pub number: String,
    pub status: ReservationStatus,
    pub days: Vec<PricedDay>,
    pub total: Decimal,
    /// Every asked day in date order.
    pub outcomes: Vec<DayOutcome>,
    pub booked: usize,
    pub refused: usize,
    /// The recap, day by day: the booked days, then the refused ones.
    pub recap: Vec<String>,
    /// Until when the places are held unless confirmed.
    pub confirm_before: Option<DateTime<Utc>>,
}

fn held_days(reservation: &Reservation) -> Vec<PricedDay> {
    reservation
        .active_days()
        .map(|d| PricedDay {
            date: d.date,
            unit_price: d.unit_price,
        })
        .collect()
}

/// "Réservation ajoutée : 15/05/2025 - Prix : 4,97 €"
pub fn added_line(date: NaiveDate, unit_price: Decimal) -> String {
    format!(
        "Réservation ajoutée : {} - Prix : {}",
        date.format("%d/%m/%Y"),
        french_euros(unit_price)
    )
}

/// "Non réservé : 15/05/2025 - Complet"
pub fn refused_line(date: NaiveDate, reason: DayRefusal) -> String {
    format!(
        "Non réservé : {} - {}",
        date.format("%d/%m/%Y"),
        reason.french()
    )
}

/// Asks for the child's days of the period for the caller's family. With `partial`, what can
/// be booked is booked and the rest is reported; otherwise all or none.
pub async fn request(
    cantine: &Cantine,
    caller: &Caller,
    child_id: Uuid,
    period_id: Uuid,
    days: RequestedDays,
    partial: bool,
) -> AppResult<Requested> {
    let family_id = caller.family()?;
    request_for_family(
        cantine, caller, family_id, child_id, period_id, days, partial,
    )
    .await
}

/// The town's staff book for a family (at the desk, on the phone): the family's own request,
/// with its rules and refusals, then its confirmation, with the staff member as the events'
/// actor. A prepaid period's days then await the family's payment, as after its own
/// confirmation; a billed-later period's are booked.
pub async fn request_on_behalf(
    cantine: &Cantine,
    caller: &Caller,
    family_id: Uuid,
    child_id: Uuid,
    period_id: Uuid,
    days: RequestedDays,
    partial: bool,
) -> AppResult<(Requested, Confirmed)> {
    staff_only(caller)?;
    let requested = request_for_family(
        cantine, caller, family_id, child_id, period_id, days, partial,
    )
    .await?;
    let confirmed = run_confirm(cantine, caller, requested.id).await?;
    Ok((requested, confirmed))
}

fn staff_only(caller: &Caller) -> AppResult<()> {
    if caller.role == crate::domain::account::Role::Family {
        return Err(AppError::forbidden());
    }
    Ok(())
}

async fn request_for_family(
    cantine: &Cantine,
    caller: &Caller,
    family_id: Uuid,
    child_id: Uuid,
    period_id: Uuid,
    days: RequestedDays,
    partial: bool,
) -> AppResult<Requested> {
    let id = Uuid::new_v4();
    let command = ReservationCommand::Request {
        reservation_id: id,
        family_id,
        child_id,
        period_id,
        days,
        partial,
    };
    let reservation = cantine
        .commands
        .execute_new(id, command, &caller.meta())
        .await?;
    let requested = reservation
        .requested
        .as_ref()
        .ok_or_else(|| AppError::internal("a request without its event"))?;
    let mut outcomes: Vec<DayOutcome> = requested
        .days
        .iter()
        .map(|d| DayOutcome {
            date: d.date,
            refused: None,
        })
        .chain(requested.refused.iter().map(|r| DayOutcome {
            date: r.date,
            refused: Some(r.reason),
        }))
        .collect();
    outcomes.sort_by_key(|o| o.date);
    let recap = requested
        .days
        .iter()
        .map(|d| added_line(d.date, d.unit_price))
        .chain(
            requested
                .refused
                .iter()
                .map(|r| refused_line(r.date, r.reason)),
        )
        .collect();
    Ok(Requested {
        id,
        number: format_number(requested.number),
        status: reservation.status,
        days: held_days(&reservation),
        total: reservation.total,
        booked: requested.days.len(),
        refused: requested.refused.len(),
        outcomes,
        recap,
        confirm_before: requested.confirm_before,
    })
}

/// The days a bulk choice names in a period, as a request would expand it (closed days
/// included: the request reports them). For a page that adds them to days ticked one by one.
pub async fn selection_days(
    cantine: &Cantine,
    caller: &Caller,
    period_id: Uuid,
    selection: &crate::domain::selection::DaySelection,
) -> AppResult<Vec<NaiveDate>> {
    caller.family()?;
    let period = crate::db::reference::period(&cantine.pool, cantine.organisation.id, period_id)
        .await?
        .ok_or_else(|| AppError::not_found("period"))?;
    selection
        .expand(&period.rules.0)
        .map_err(|e| AppError::bad_input("invalid_selection", e.to_string()))
}

/// The days a request could not book and why, from its own event, in the request's order.
pub async fn refused_days(cantine: &Cantine, id: Uuid) -> AppResult<Vec<(NaiveDate, DayRefusal)>> {
    let reservation = cantine.commands.load(id).await?;
    Ok(reservation
        .requested
        .map(|r| r.refused.iter().map(|x| (x.date, x.reason)).collect())
        .unwrap_or_default())
}

pub struct Confirmed {
    pub status: ReservationStatus,
    /// On a prepaid period: the payment deadline.
    pub pay_before: Option<DateTime<Utc>>,
    pub total: Decimal,
}

/// Confirms the caller's family's request: prepaid, it awaits payment; billed later, booked.
pub async fn confirm(cantine: &Cantine, caller: &Caller, id: Uuid) -> AppResult<Confirmed> {
    caller.family()?;
    run_confirm(cantine, caller, id).await
}

async fn run_confirm(cantine: &Cantine, caller: &Caller, id: Uuid) -> AppResult<Confirmed> {
    let command = ReservationCommand::Confirm {
        actor: caller.actor(),
    };
    let reservation = cantine
        .commands
        .execute(id, command, &caller.meta())
        .await?;
    Ok(Confirmed {
        status: reservation.status,
        pay_before: reservation.pay_before,
        total: reservation.total,
    })
}

pub struct Cancelled {
    pub status: ReservationStatus,
    pub cancelled_days: Vec<NaiveDate>,
    pub total: Decimal,
    /// What the family is credited for paid days (spent by its next payment).
    pub credited: Decimal,
    /// The credit note of that credit.
    pub credit_note: Option<InvoiceIssued>,
    /// Days past the cut-off, cancelled by staff: the reason and what the family gets back.
    pub late: Option<LateCancellationGranted>,
}

/// Cancels these days of the caller's family's reservation (every day still held when `None`).
/// Paid days come back as a credit note, issued here at once (the sweep catches a crash).
pub async fn cancel(
    cantine: &Cantine,
    caller: &Caller,
    id: Uuid,
    days: Option<Vec<NaiveDate>>,
) -> AppResult<Cancelled> {
    caller.family()?;
    let command = ReservationCommand::Cancel {
        actor: caller.actor(),
        days,
    };
    run_cancel(cantine, caller, id, command).await
}

/// The town's staff cancel for a family: before the cut-off as the family would; past it only
/// with a reason from the list, which decides what the family gets back (`LateReason::outcome`):
/// a credit note, a refund (a credit note that finance pays back), or nothing for unpaid days.
pub async fn cancel_on_behalf(
    cantine: &Cantine,
    caller: &Caller,
    id: Uuid,
    days: Option<Vec<NaiveDate>>,
    late_reason: Option<LateReason>,
) -> AppResult<Cancelled> {
    staff_only(caller)?;
    let command = match late_reason {
        None => ReservationCommand::Cancel {
            actor: caller.actor(),
            days,
        },
        Some(reason) => ReservationCommand::CancelLate { days, reason },
    };
    run_cancel(cantine, caller, id, command).await
}

async fn run_cancel(
    cantine: &Cantine,
    caller: &Caller,
    id: Uuid,
    command: ReservationCommand,
) -> AppResult<Cancelled> {
    let before = cantine.commands.load(id).await?;
    let reservation = cantine
        .commands
        .execute(id, command, &caller.meta())
        .await?;
    let cancelled_days = before
        .active_days()
        .filter(|d| {
            reservation
                .days
                .iter()
                .any(|after| after.date == d.date && after.cancelled)
        })
        .map(|d| d.date)
        .collect::<Vec<NaiveDate>>();
    let mut credited = if before.status == ReservationStatus::Paid {
        before.total - reservation.total
    } else {
        Decimal::ZERO
    };
    let mut credit_note = if credited.is_zero() {
        None
    } else {
        crate::app::credit_notes::issue_missing(cantine, Some(id), &caller.request_id)
            .await?
            .pop()
    };
    let late = (reservation.late_grants.len() > before.late_grants.len())
        .then(|| reservation.late_grants.last().cloned())
        .flatten();
    // Billed-later days already on a month's invoice are credited at once.
    if let Some(requested) = before.requested.as_ref() {
        if matches!(requested.period.payment, PaymentMode::Postpaid) {
            if let Some(note) = credit_billed_days(
                cantine,
                requested.family_id,
                &cancelled_days,
                &caller.request_id,
            )
            .await?
            {
                credited += note.total;
                credit_note = Some(note);
            }
        }
    }
    Ok(Cancelled {
        status: reservation.status,
        cancelled_days,
        total: reservation.total,
        credited,
        credit_note,
        late,
    })
}

/// The credit note of billed-later `days` that a month's invoice already billed (the last one
/// when the days span months), once the reservations read model has the cancellation.
async fn credit_billed_days(
    cantine: &Cantine,
    family_id: Uuid,
    days: &[NaiveDate],
    request_id: &str,
) -> AppResult<Option<InvoiceIssued>> {
    let mut months: Vec<String> = days.iter().map(|d| month_of(*d)).collect();
    months.sort();
    months.dedup();
    if months.is_empty() {
        return Ok(None);
    }
    cantine.fresh(crate::projections::reservations::NAME).await;
    let mut note = None;
    for month in months {
        let run = crate::app::invoicing::credit_month(
            &cantine.pool,
            cantine.clock.as_ref(),
            &cantine.organisation,
            &month,
            Some(family_id),
            request_id,
        )
        .await?;
        note = run.credit_notes.into_iter().last().or(note);
    }
    Ok(note)
}

/// Which of these days of the reservation are past its cancellation cut-off now (the rule the
/// cancel command applies).
pub async fn past_cancellation_cutoff(
    cantine: &Cantine,
    id: Uuid,
    days: &[NaiveDate],
) -> AppResult<HashSet<NaiveDate>> {
    let reservation = cantine.commands.load(id).await?;
    Ok(reservation
        .past_cancellation_cutoff(days.iter(), cantine.clock.now())
        .into_iter()
        .collect())
}

/// The caller's family's credit notes of these numbers, newest first: what a cancellation's
/// result names. (A small read of the invoices' view, kept here until the invoice queries have
/// their own module.)
pub async fn credit_notes_numbered(
    cantine: &Cantine,
    caller: &Caller,
    numbers: &[String],
) -> AppResult<Vec<InvoiceIssued>> {
    let family_id = caller.family()?;
    cantine.fresh(crate::projections::invoices::NAME).await;
    Ok(
        reservation_reads::invoices_numbered(&cantine.pool, family_id, numbers)
            .await?
            .into_iter()
            .filter(|i| i.kind == InvoiceKind::CreditNote)
            .collect(),
    )
}
