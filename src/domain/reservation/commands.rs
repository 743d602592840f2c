use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::late_cancellation::LateReason;
use crate::domain::selection::DaySelection;

/// The days asked for: chosen one by one, or by a bulk choice.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestedDays {
    Explicit(Vec<NaiveDate>),
    Selection(DaySelection),
}

/// Who asks. A family may only act on its own reservations; the domain checks it so that no
/// route can forget to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Family(Uuid),
    Staff,
    System,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ReservationCommand {
    Request {
        reservation_id: Uuid,
        family_id: Uuid,
        child_id: Uuid,
        period_id: Uuid,
        days: RequestedDays,
        /// Book what can be booked and report the rest (bulk choices); otherwise all or
        /// nothing.
        partial: bool,
    },
    Confirm {
        actor: Actor,
    },
    Pay {
        actor: Actor,
        payment_id: Uuid,
        amount: Decimal,
    },
    Expire,
    /// `days: None` cancels every day still booked.
    Cancel {
        actor: Actor,
        days: Option<Vec<NaiveDate>>,
    },
    /// The town's staff cancel days, those past the family's cut-off too, for this reason
    /// (`days: None`: every day still booked).
    CancelLate {
        days: Option<Vec<NaiveDate>>,
        reason: LateReason,
    },
}

impl ReservationCommand {
    /// The command's name, as operators count them.
    pub fn kind(&self) -> &'static str {
        match self {
            ReservationCommand::Request { .. } => "request",
            ReservationCommand::Confirm { .. } => "confirm",
            ReservationCommand::Pay { .. } => "pay",
            ReservationCommand::Expire => "expire",
            ReservationCommand::Cancel { .. } => "cancel",
            ReservationCommand::CancelLate { .. } => "cancel_late",
        }
    }
}
