//! The demo clock, moved forward by staff when the service was started with `CANTINE_CLOCK`
//! (the guides' walks and the tests); the expiry looks again at once.

use chrono::{DateTime, Utc};

use crate::app::{AppError, AppResult, Cantine};

/// Moves the clock forward; answers the new time. Without an adjustable clock the route does
/// not exist (`not_found`).
pub fn advance(cantine: &Cantine, minutes: i64) -> AppResult<DateTime<Utc>> {
    let clock = cantine
        .adjustable_clock
        .as_ref()
        .ok_or_else(|| AppError::not_found("route"))?;
    if !(0..=366 * 24 * 60).contains(&minutes) {
        return Err(AppError::rule(
            "invalid_advance",
            "advance_minutes must be between 0 and one year",
        ));
    }
    clock.advance(chrono::Duration::minutes(minutes));
    cantine.expiry_wake.notify_one();
    Ok(cantine.clock.now())
}
