use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::errors::ErrorKind;
use crate::domain::period::BookingContext;

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum LookupError {
    #[error("unknown child")]
    UnknownChild,
    #[error("unknown period")]
    UnknownPeriod,
    #[error("service unavailable: {0}")]
    Unavailable(String),
}

impl LookupError {
    pub fn code(&self) -> &'static str {
        match self {
            LookupError::UnknownChild => "unknown_child",
            LookupError::UnknownPeriod => "unknown_period",
            LookupError::Unavailable(_) => "internal",
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            LookupError::UnknownChild | LookupError::UnknownPeriod => ErrorKind::NotFound,
            LookupError::Unavailable(_) => ErrorKind::Internal,
        }
    }
}

/// What the Reservation aggregate may ask of the world while deciding.
#[async_trait]
pub trait ReservationServices: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// The child (of this family), the period and its restaurant, as they are now.
    async fn booking_context(
        &self,
        family_id: Uuid,
        child_id: Uuid,
        period_id: Uuid,
    ) -> Result<BookingContext, LookupError>;

    /// Among `days`, those without a place left and those the child already has a meal on.
    /// Read before deciding; the places themselves are taken when the events are stored.
    async fn availability(
        &self,
        context: &BookingContext,
        days: &[NaiveDate],
    ) -> Result<Availability, LookupError>;

    /// The next reservation number of the organisation (1, 2, 3, …).
    async fn next_reservation_number(&self, organisation_id: Uuid) -> Result<u64, LookupError>;
}

pub type Services = Arc<dyn ReservationServices>;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Availability {
    pub full: BTreeSet<NaiveDate>,
    pub already_booked: BTreeSet<NaiveDate>,
}
