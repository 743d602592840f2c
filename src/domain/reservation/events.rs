//! Reservation events. They are stored forever and never edited: a change of shape is a new
//! version, read through an upcaster. Each carries what every projection needs, so that no
//! projection reads reference tables to rebuild.

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::DomainEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::late_cancellation::{LateOutcome, LateReason};
use crate::domain::period::{ChildRef, DayRefusal, PeriodRef, RestaurantRef};

/// One meal day as captured at request time. The service and meal option are shared: a
/// request's days all have the same (a copy of each for each of a whole year's ~140 days was a
/// third of the time to decode its event).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BookedDay {
    pub date: NaiveDate,
    pub service: std::sync::Arc<str>,
    pub meal_option: std::sync::Arc<str>,
    pub unit_price: Decimal,
}

/// A day asked for and not booked, with the reason.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RefusedDay {
    pub date: NaiveDate,
    pub reason: DayRefusal,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReservationRequested {
    pub reservation_id: Uuid,
    pub number: u64,
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    pub child: ChildRef,
    pub restaurant: RestaurantRef,
    pub period: PeriodRef,
    /// Stored as runs of days sharing service, meal option and price (since 2.0).
    #[serde(with = "super::day_runs")]
    pub days: Vec<BookedDay>,
    /// Days asked for in a bulk choice that could not be booked (since 1.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<RefusedDay>,
    pub total: Decimal,
    pub requested_at: DateTime<Utc>,
    /// The places are held until then unless confirmed (since 1.1; none before).
    #[serde(default)]
    pub confirm_before: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReservationConfirmed {
    pub confirmed_at: DateTime<Utc>,
    pub total: Decimal,
    /// Prepaid only: unpaid at this instant, the reservation expires.
    pub pay_before: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReservationPaid {
    pub paid_at: DateTime<Utc>,
    pub payment_id: Uuid,
    pub amount: Decimal,
}

/// A payment that arrived after the reservation expired, accepted because every day's place
/// was still free: the places are taken again and the reservation is paid.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReservationReinstated {
    pub paid_at: DateTime<Utc>,
    pub payment_id: Uuid,
    pub amount: Decimal,
    /// The days whose places are taken again.
    #[serde(deserialize_with = "crate::domain::iso_date::vec")]
    pub days: Vec<NaiveDate>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ReservationExpired {
    pub expired_at: DateTime<Utc>,
    /// The days whose places go back.
    #[serde(deserialize_with = "crate::domain::iso_date::vec")]
    pub released_days: Vec<NaiveDate>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DaysCancelled {
    pub cancelled_at: DateTime<Utc>,
    #[serde(deserialize_with = "crate::domain::iso_date::vec")]
    pub days: Vec<NaiveDate>,
    /// The price of the cancelled days.
    pub amount: Decimal,
    /// The total of the days still booked.
    pub remaining_total: Decimal,
    /// True when no day is left: the whole reservation is cancelled.
    pub reservation_cancelled: bool,
    /// What the family is credited: the price of paid days (since 1.1).
    pub credited: Decimal,
    /// Days past the family's cut-off, cancelled by the town's staff for a reason (since 1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<LateCancellationGranted>,
}

/// The town's staff let days be cancelled past the family's cut-off, for a reason from the list.
/// What the family gets back is decided with it, by the rule of `late_cancellation`, and kept in
/// the cancellation's event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct LateCancellationGranted {
    /// The days past the cut-off (a day before it needs no grant).
    #[serde(deserialize_with = "crate::domain::iso_date::vec")]
    pub days: Vec<NaiveDate>,
    pub reason: LateReason,
    pub outcome: LateOutcome,
    /// What the family gets back for them: their price when paid, else zero.
    pub amount: Decimal,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum ReservationEvent {
    ReservationRequested(Box<ReservationRequested>),
    ReservationConfirmed(ReservationConfirmed),
    ReservationPaid(ReservationPaid),
    ReservationExpired(ReservationExpired),
    DaysCancelled(DaysCancelled),
    ReservationReinstated(ReservationReinstated),
}

impl DomainEvent for ReservationEvent {
    fn event_type(&self) -> String {
        match self {
            ReservationEvent::ReservationRequested(_) => "ReservationRequested",
            ReservationEvent::ReservationConfirmed(_) => "ReservationConfirmed",
            ReservationEvent::ReservationPaid(_) => "ReservationPaid",
            ReservationEvent::ReservationExpired(_) => "ReservationExpired",
            ReservationEvent::DaysCancelled(_) => "DaysCancelled",
            ReservationEvent::ReservationReinstated(_) => "ReservationReinstated",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        match self {
            ReservationEvent::ReservationRequested(_) => "2.0",
            ReservationEvent::DaysCancelled(_) => "1.2",
            _ => "1.0",
        }
        .to_string()
    }
}
