//! The Reservation aggregate: one family, one child, one period of one restaurant, a set of days.

mod aggregate;
mod commands;
mod day_status;
mod errors;
mod events;
mod services;

pub use aggregate::{DayState, Reservation, ReservationStatus};
pub use commands::{Actor, RequestedDays, ReservationCommand};
pub use day_status::DayStatus;
pub use errors::{ErrorKind, ReservationError};
pub use events::{
    BookedDay, DaysCancelled, RefusedDay, ReservationConfirmed, ReservationEvent,
    ReservationExpired, ReservationPaid, ReservationRequested,
};
pub use services::{Availability, LookupError, ReservationServices, Services};

/// How long an unconfirmed request holds its places.
pub const REQUEST_HOLD_MINUTES: i64 = 60;

/// Reservation numbers are shown with five digits, as in the first guide (N° 00014).
pub fn format_number(number: u64) -> String {
    format!("{number:05}")
}

#[cfg(test)]
mod tests;
