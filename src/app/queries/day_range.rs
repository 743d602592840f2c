//! The span of days a reader asks for (kitchen headcounts, finance's invoices): from a day,
//! by default today in Paris, to a day, by default two weeks on; at most a year.

use chrono::{Duration, NaiveDate};

use crate::app::{AppError, AppResult, Cantine};

const MAX_DAYS: i64 = 366;

/// From `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DayRange {
    pub fn asked(
        cantine: &Cantine,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> AppResult<DayRange> {
        let from = from.unwrap_or_else(|| cantine.clock.paris_today());
        let to = to.unwrap_or(from + Duration::days(13));
        if to < from || (to - from).num_days() >= MAX_DAYS {
            return Err(AppError::bad_input(
                "invalid_parameter",
                "`to` must not be before `from`, and the range at most a year",
            ));
        }
        Ok(DayRange { from, to })
    }
}
