//! The Reservation aggregate: one family, one child, one period of one restaurant, a set of days.

mod aggregate;
mod commands;
mod day_runs;
mod day_status;
mod errors;
mod events;
mod late_cancellation;
mod services;

pub use aggregate::{DayState, Reservation, ReservationStatus, UnknownStatus};
pub use commands::{Actor, RequestedDays, ReservationCommand};
pub use day_runs::runs_of_stored_days;
pub use day_status::DayStatus;
pub use errors::{ErrorKind, ReservationError};
pub use events::{
    BookedDay, DaysCancelled, LateCancellationGranted, RefusedDay, ReservationConfirmed,
    ReservationEvent, ReservationExpired, ReservationPaid, ReservationRequested,
};
pub use late_cancellation::{LateOutcome, LateReason};
pub use services::{Availability, LookupError, ReservationServices, Services};

/// How long an unconfirmed request holds its places.
pub const REQUEST_HOLD_MINUTES: i64 = 60;

/// Reservation numbers are shown with five digits, as in the first guide (N° 00014).
pub fn format_number(number: u64) -> String {
    format!("{number:05}")
}

/// A reservation's number (a sequence per organisation), shown as parents read it: `00014`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReservationNumber(pub u64);

impl From<i64> for ReservationNumber {
    fn from(stored: i64) -> Self {
        ReservationNumber(stored.unsigned_abs())
    }
}

impl std::fmt::Display for ReservationNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_number(self.0))
    }
}

#[cfg(test)]
mod tests;
