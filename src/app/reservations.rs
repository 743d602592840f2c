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
use crate::domain::period::DayRefusal;
use crate::domain::reservation::{
    format_number, RequestedDays, Reservation, ReservationCommand, ReservationStatus,
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
        .execute(id, command, &caller.meta())
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

/// The refused lines of a request, from its own event ("Non réservé : ...").
pub async fn refused_lines(cantine: &Cantine, id: Uuid) -> AppResult<Vec<String>> {
    let reservation = cantine.commands.load(id).await?;
    Ok(reservation
        .requested
        .map(|r| {
            r.refused
                .iter()
                .map(|refused| refused_line(refused.date, refused.reason))
                .collect()
        })
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
    let before = cantine.commands.load(id).await?;
    let command = ReservationCommand::Cancel {
        actor: caller.actor(),
        days,
    };
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
        .collect();
    let credited = if before.status == ReservationStatus::Paid {
        before.total - reservation.total
    } else {
        Decimal::ZERO
    };
    let credit_note = if credited.is_zero() {
        None
    } else {
        crate::app::credit_notes::issue_missing(cantine, Some(id), &caller.request_id)
            .await?
            .pop()
    };
    Ok(Cancelled {
        status: reservation.status,
        cancelled_days,
        total: reservation.total,
        credited,
        credit_note,
    })
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
