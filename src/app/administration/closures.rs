//! Closures edited after a period is created (a strike, a works week, a new public holiday).
//! Meals already held on a day that becomes closed stay booked: refunding or moving them is
//! staff's decision, so the answer lists those days instead of cancelling anything.

use chrono::NaiveDate;
use uuid::Uuid;

use super::log_change;
use super::periods::{self, invalid, with_public_holidays};
use crate::app::{AppResult, Caller, Cantine};
use crate::db;
use crate::domain::period::{Closure, DayRefusal};

/// A closure ends on or after the day it starts.
pub fn validate_closures(closures: &[Closure]) -> AppResult<()> {
    if let Some(closure) = closures.iter().find(|c| c.from > c.to) {
        return Err(invalid(format!(
            "closure {} ends before it starts",
            closure.label
        )));
    }
    Ok(())
}

/// The period's closures after a change, and the days now closed that still have meals.
pub struct ClosuresSet {
    pub closures: Vec<Closure>,
    /// Days now closed on which meals are held or paid: they stay booked, staff decide.
    pub booked_days_now_closed: Vec<NaiveDate>,
}

/// Replaces the period's closures (with France's public holidays of the period when wanted).
pub async fn replace(
    cantine: &Cantine,
    caller: &Caller,
    period_id: Uuid,
    closures: Vec<Closure>,
    public_holidays: bool,
) -> AppResult<ClosuresSet> {
    validate_closures(&closures)?;
    let period = periods::get(cantine, period_id).await?;
    let (from, to) = (period.rules.from, period.rules.to);
    let closures = with_public_holidays(closures, public_holidays, from, to);
    let rules = db::closures::replace_closures(&cantine.pool, period_id, &closures).await?;
    log_change(caller, "closures replaced", period_id);
    let held = db::closures::held_days(
        &cantine.pool,
        period.restaurant_id,
        &period.service.label,
        (rules.from, rules.to),
    )
    .await?;
    let booked_days_now_closed = held
        .into_iter()
        .filter(|day| rules.serves_on(*day) == Err(DayRefusal::ClosedDay))
        .collect();
    Ok(ClosuresSet {
        closures: rules.closures,
        booked_days_now_closed,
    })
}
