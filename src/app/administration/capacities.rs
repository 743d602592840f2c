//! One day's capacity for a period's service (a trip, a staff shortage). It cannot go below
//! the places already taken.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{log_change, periods, valid_capacity};
use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;

/// A day with a capacity of its own, and the places taken that day.
pub type DayCapacity = db::reference::CapacityOverrideRow;

pub async fn set(
    cantine: &Cantine,
    caller: &Caller,
    period_id: Uuid,
    date: NaiveDate,
    capacity: i32,
) -> AppResult<DayCapacity> {
    valid_capacity(capacity)?;
    let period = periods::get(cantine, period_id).await?;
    if period.rules.serves_on(date).is_err() {
        return Err(AppError::rule(
            "closed_day",
            "the canteen does not serve on that day in this period",
        ));
    }
    let taken = db::capacities::set_day_capacity(
        &cantine.pool,
        db::capacities::DayCapacity {
            period_id,
            restaurant_id: period.restaurant_id,
            service: &period.service.label,
            date,
            capacity,
        },
    )
    .await?
    .ok_or_else(|| {
        AppError::conflict(
            "capacity_below_taken",
            "more places are already taken that day than the new capacity",
        )
    })?;
    log_change(caller, "day capacity set", period_id);
    // A capacity raised may free places for the children in line.
    let mut conn = cantine.pool.acquire().await?;
    db::waitlist::mark_due(
        &mut conn,
        period.restaurant_id,
        &period.service.label,
        &[date],
    )
    .await?;
    Ok(DayCapacity {
        date,
        capacity,
        taken,
    })
}

/// The period's days with a capacity of their own, by date.
pub async fn of_period(cantine: &Cantine, period_id: Uuid) -> AppResult<Vec<DayCapacity>> {
    Ok(db::reference::capacity_overrides(&cantine.pool, period_id).await?)
}
