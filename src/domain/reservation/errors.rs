use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::events::RefusedDay;
use super::services::LookupError;
use crate::domain::period::DayRefusal;

/// How a refusal should be understood by whoever relays it (the HTTP layer maps it to a status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is unusable.
    BadRequest,
    /// A business rule refuses it.
    Rule,
    /// The reservation is not in a state that allows it.
    Conflict,
    NotFound,
    Internal,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ReservationError {
    #[error("no day was requested")]
    NoDays,
    #[error("a day was requested twice")]
    DuplicateDays { days: Vec<NaiveDate> },
    #[error("some days are outside the period")]
    OutsidePeriod { days: Vec<NaiveDate> },
    #[error("the restaurant is closed on some days")]
    ClosedDay { days: Vec<NaiveDate> },
    #[error("the booking deadline has passed for some days")]
    PastCutoff { days: Vec<NaiveDate> },
    #[error("bookings for this period are not open yet")]
    NotOpen { days: Vec<NaiveDate> },
    #[error("some days are already booked for this child")]
    AlreadyBooked { days: Vec<NaiveDate> },
    #[error("some days are full")]
    DayFull { days: Vec<NaiveDate> },
    #[error("none of the chosen days can be booked")]
    NoBookableDay { refused: Vec<RefusedDay> },
    #[error("the selection cannot be used: {0}")]
    InvalidSelection(String),
    #[error("at most {max} days can be requested at once")]
    TooManyDays { max: usize },
    #[error("the places were held until a deadline that has passed")]
    HoldExpired,
    #[error("some days are not part of this reservation, or already cancelled")]
    UnknownDays { days: Vec<NaiveDate> },
    #[error("the reservation already exists")]
    AlreadyRequested,
    #[error("the reservation was already confirmed")]
    AlreadyConfirmed,
    #[error("the reservation is not confirmed yet")]
    NotConfirmed,
    #[error("the reservation is already paid")]
    AlreadyPaid,
    #[error("the reservation has expired")]
    AlreadyExpired,
    #[error("the reservation is cancelled")]
    AlreadyCancelled,
    #[error("this reservation is billed later and is not paid online")]
    NotPrepaid,
    #[error("the payment deadline has passed")]
    PaymentDeadlinePassed,
    #[error("the payment deadline has not passed yet")]
    DeadlineNotReached,
    #[error("the reservation expired and its places were taken since")]
    PlacesGone { days: Vec<NaiveDate> },
    #[error("the amount {paid} differs from the total {total}")]
    AmountMismatch { paid: Decimal, total: Decimal },
    #[error("reservation not found")]
    NotFound,
    #[error("{0}")]
    Lookup(#[from] LookupError),
}

impl ReservationError {
    /// The stable machine code of the HTTP contract.
    pub fn code(&self) -> &'static str {
        match self {
            ReservationError::NoDays => "no_days",
            ReservationError::DuplicateDays { .. } => "duplicate_days",
            ReservationError::OutsidePeriod { .. } => "outside_period",
            ReservationError::ClosedDay { .. } => "closed_day",
            ReservationError::PastCutoff { .. } => "past_cutoff",
            ReservationError::NotOpen { .. } => "bookings_not_open",
            ReservationError::AlreadyBooked { .. } => "already_booked",
            ReservationError::DayFull { .. } => "day_full",
            ReservationError::NoBookableDay { .. } => "no_bookable_day",
            ReservationError::InvalidSelection(_) => "invalid_selection",
            ReservationError::TooManyDays { .. } => "too_many_days",
            ReservationError::HoldExpired => "hold_expired",
            ReservationError::UnknownDays { .. } => "unknown_days",
            ReservationError::AlreadyRequested => "already_requested",
            ReservationError::AlreadyConfirmed => "already_confirmed",
            ReservationError::NotConfirmed => "not_confirmed",
            ReservationError::AlreadyPaid => "already_paid",
            ReservationError::AlreadyExpired => "already_expired",
            ReservationError::AlreadyCancelled => "already_cancelled",
            ReservationError::NotPrepaid => "not_prepaid",
            ReservationError::PaymentDeadlinePassed => "payment_deadline_passed",
            ReservationError::DeadlineNotReached => "deadline_not_reached",
            ReservationError::AmountMismatch { .. } => "amount_mismatch",
            ReservationError::PlacesGone { .. } => "places_gone",
            ReservationError::NotFound => "not_found",
            ReservationError::Lookup(e) => e.code(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            ReservationError::NoDays | ReservationError::DuplicateDays { .. } => ErrorKind::Rule,
            ReservationError::OutsidePeriod { .. }
            | ReservationError::ClosedDay { .. }
            | ReservationError::PastCutoff { .. }
            | ReservationError::NotOpen { .. }
            | ReservationError::AlreadyBooked { .. }
            | ReservationError::DayFull { .. }
            | ReservationError::NoBookableDay { .. }
            | ReservationError::InvalidSelection(_)
            | ReservationError::TooManyDays { .. }
            | ReservationError::UnknownDays { .. }
            | ReservationError::AmountMismatch { .. }
            | ReservationError::PaymentDeadlinePassed => ErrorKind::Rule,
            ReservationError::AlreadyRequested
            | ReservationError::AlreadyConfirmed
            | ReservationError::NotConfirmed
            | ReservationError::AlreadyPaid
            | ReservationError::AlreadyExpired
            | ReservationError::AlreadyCancelled
            | ReservationError::NotPrepaid
            | ReservationError::HoldExpired
            | ReservationError::DeadlineNotReached
            | ReservationError::PlacesGone { .. } => ErrorKind::Conflict,
            ReservationError::NotFound => ErrorKind::NotFound,
            ReservationError::Lookup(e) => e.kind(),
        }
    }

    /// The days a refusal is about, for the problem's `days` member.
    pub fn days(&self) -> Option<Vec<NaiveDate>> {
        match self {
            ReservationError::DuplicateDays { days }
            | ReservationError::OutsidePeriod { days }
            | ReservationError::ClosedDay { days }
            | ReservationError::PastCutoff { days }
            | ReservationError::NotOpen { days }
            | ReservationError::AlreadyBooked { days }
            | ReservationError::DayFull { days }
            | ReservationError::UnknownDays { days }
            | ReservationError::PlacesGone { days } => Some(days.clone()),
            ReservationError::NoBookableDay { refused } => {
                Some(refused.iter().map(|r| r.date).collect())
            }
            _ => None,
        }
    }

    /// Each refused day with its reason, when the refusal is about several reasons.
    pub fn refused(&self) -> Option<&[RefusedDay]> {
        match self {
            ReservationError::NoBookableDay { refused } => Some(refused),
            _ => None,
        }
    }

    /// The refusal of an all-or-nothing request: the first reason in reporting order, with
    /// its days.
    pub fn for_days(reason: DayRefusal, days: Vec<NaiveDate>) -> Self {
        match reason {
            DayRefusal::OutsidePeriod => ReservationError::OutsidePeriod { days },
            DayRefusal::ClosedDay => ReservationError::ClosedDay { days },
            DayRefusal::NotOpen => ReservationError::NotOpen { days },
            DayRefusal::PastCutoff => ReservationError::PastCutoff { days },
            DayRefusal::AlreadyBooked => ReservationError::AlreadyBooked { days },
            DayRefusal::Full => ReservationError::DayFull { days },
        }
    }
}
