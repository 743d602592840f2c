//! The cut-off rule: until when a day can be booked, and (the same rule, set apart per period)
//! until when a booked day can be cancelled. "Past the cut-off" is `now >= deadline_for(day)`.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{paris_to_utc, LocalTime, Weekday};

/// Until when a meal day can be booked.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BookingCutoff {
    /// "Book before the Tuesday of the week before the wanted date, 09:30" (first guide).
    WeekdayOfPreviousWeek { weekday: Weekday, time: LocalTime },
    /// N calendar days before the meal, at a local time.
    DaysBefore { days: u32, time: LocalTime },
}

impl BookingCutoff {
    /// The last instant (exclusive) at which `day` can still be booked.
    pub fn deadline_for(&self, day: NaiveDate) -> DateTime<Utc> {
        let (date, time) = match self {
            BookingCutoff::WeekdayOfPreviousWeek { weekday, time } => {
                let monday_of_week =
                    day - Duration::days(day.weekday().num_days_from_monday() as i64);
                let monday_before = monday_of_week - Duration::days(7);
                let offset = weekday.to_chrono().num_days_from_monday() as i64;
                (monday_before + Duration::days(offset), time.0)
            }
            BookingCutoff::DaysBefore { days, time } => {
                (day - Duration::days(*days as i64), time.0)
            }
        };
        paris_to_utc(date.and_time(time))
    }

    /// The sentence parents read about cancelling.
    pub fn cancellation_sentence(&self) -> String {
        match self {
            BookingCutoff::WeekdayOfPreviousWeek { weekday, time } => format!(
                "Vous pouvez annuler jusqu'au {} de la semaine précédente, {}",
                weekday.french_name(),
                time
            ),
            BookingCutoff::DaysBefore { days, time } => format!(
                "Vous pouvez annuler jusqu'à {} jour{} avant le repas, {}",
                days,
                if *days > 1 { "s" } else { "" },
                time
            ),
        }
    }

    /// The sentence parents read next to the calendar.
    pub fn sentence(&self) -> String {
        match self {
            BookingCutoff::WeekdayOfPreviousWeek { weekday, time } => format!(
                "Vous devez réserver avant le {} de la semaine précédente, {}",
                weekday.french_name(),
                time
            ),
            BookingCutoff::DaysBefore { days, time } => format!(
                "Vous devez réserver au plus tard {} jour{} avant le repas, avant {}",
                days,
                if *days > 1 { "s" } else { "" },
                time
            ),
        }
    }
}
