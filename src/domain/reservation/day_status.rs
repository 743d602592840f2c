//! A booked day's status, as calendars, histories and kitchens read it: the reservation's own
//! status unless the day was cancelled on its own.

use super::ReservationStatus;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayStatus {
    /// Asked for, not yet confirmed: the places are held for a short while.
    Requested,
    /// Confirmed on a prepaid period, held until the payment deadline.
    AwaitingPayment,
    /// Paid, or confirmed on a billed-later period.
    Booked,
    Cancelled,
    Expired,
}

impl DayStatus {
    pub const ALL: [DayStatus; 5] = [
        DayStatus::Requested,
        DayStatus::AwaitingPayment,
        DayStatus::Booked,
        DayStatus::Cancelled,
        DayStatus::Expired,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DayStatus::Requested => "requested",
            DayStatus::AwaitingPayment => "awaiting_payment",
            DayStatus::Booked => "booked",
            DayStatus::Cancelled => "cancelled",
            DayStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// A day's status from its reservation's, as the SQL function `day_status`
    /// (`migrations/0013_reservation_days.sql`) computes it; `tests/api/projections.rs` checks
    /// that the two agree.
    pub fn of(cancelled: bool, reservation: ReservationStatus) -> Self {
        match reservation {
            _ if cancelled => DayStatus::Cancelled,
            ReservationStatus::Requested => DayStatus::Requested,
            ReservationStatus::AwaitingPayment => DayStatus::AwaitingPayment,
            ReservationStatus::Confirmed | ReservationStatus::Paid => DayStatus::Booked,
            ReservationStatus::Cancelled => DayStatus::Cancelled,
            ReservationStatus::Expired => DayStatus::Expired,
        }
    }

    /// Still taking a place (not cancelled nor expired).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            DayStatus::Requested | DayStatus::AwaitingPayment | DayStatus::Booked
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_spelling() {
        for status in DayStatus::ALL {
            assert_eq!(DayStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DayStatus::parse("paid"), None);
    }
}
