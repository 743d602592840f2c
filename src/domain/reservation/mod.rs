//! The Reservation aggregate: one family, one child, one period of one restaurant, a set of days.

mod aggregate;
mod commands;
mod errors;
mod events;
mod services;

pub use aggregate::{DayState, Reservation, ReservationStatus};
pub use commands::{Actor, ReservationCommand};
pub use errors::{ErrorKind, ReservationError};
pub use events::{
    BookedDay, DaysCancelled, ReservationConfirmed, ReservationEvent, ReservationExpired,
    ReservationPaid, ReservationRequested,
};
pub use services::{LookupError, ReservationServices, Services};

/// Reservation numbers are shown with five digits, as in the first guide (N° 00014).
pub fn format_number(number: u64) -> String {
    format!("{number:05}")
}

#[cfg(test)]
mod tests;
