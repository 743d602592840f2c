//! What a day of the family's calendar shows: booked, requested and not confirmed yet, awaiting
//! payment, or why it cannot be booked. One spelling per status, for the API and the pages alike.

/// A calendar day as the family sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarStatus {
    Booked,
    /// Held by a request the family has not confirmed yet: not booked, and freed an hour later.
    Requested,
    AwaitingPayment,
    Available,
    Full,
    Closed,
    PastCutoff,
}

impl CalendarStatus {
    pub const ALL: [CalendarStatus; 7] = [
        CalendarStatus::Booked,
        CalendarStatus::Requested,
        CalendarStatus::AwaitingPayment,
        CalendarStatus::Available,
        CalendarStatus::Full,
        CalendarStatus::Closed,
        CalendarStatus::PastCutoff,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CalendarStatus::Booked => "booked",
            CalendarStatus::Requested => "requested",
            CalendarStatus::AwaitingPayment => "awaiting_payment",
            CalendarStatus::Available => "available",
            CalendarStatus::Full => "full",
            CalendarStatus::Closed => "closed",
            CalendarStatus::PastCutoff => "past_cutoff",
        }
    }
}
