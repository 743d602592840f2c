//! Booking periods: a restaurant's service between two dates, with its opening days, closures,
//! cut-offs, payment mode, price and capacity. Created here, checked whole before anything is
//! written; read back as [`Period`], the typed view the back office shows.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::closures::validate_closures;
use super::{log_change, non_empty};
use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::db::reference::PeriodRow;
use crate::domain::period::{
    period_length_allowed, BookingCutoff, Closure, PaymentMode, PeriodRules, ServiceHours,
};
use crate::domain::tariff::valid_price;

/// What a new period is made of, as staff give it.
pub struct NewPeriod {
    pub restaurant_id: Uuid,
    pub activity: String,
    pub label: String,
    pub service: ServiceHours,
    /// Its dates, days, closures and cut-offs (bookings open at once when no opening is set).
    pub rules: PeriodRules,
    /// Adds France's public holidays between the rules' dates to their closures.
    pub public_holidays: bool,
    pub payment: PaymentMode,
    pub unit_price: Decimal,
    /// The restaurant's when absent.
    pub capacity: Option<i32>,
}

/// A period as the back office shows it.
#[derive(Debug, Clone)]
pub struct Period {
    pub id: Uuid,
    pub restaurant_id: Uuid,
    pub restaurant_name: String,
    pub activity: String,
    pub label: String,
    pub service: ServiceHours,
    pub rules: PeriodRules,
    pub payment: PaymentMode,
    /// The price without a price list, or before the first one.
    pub unit_price: Decimal,
    pub capacity: i32,
}

impl Period {
    /// The sentence parents read, e.g. "Vous devez réserver avant le mardi de la semaine
    /// précédente, 09:30".
    pub fn booking_rule(&self) -> String {
        self.rules.booking_cutoff.sentence()
    }

    /// The same for cancelling.
    pub fn cancellation_rule(&self) -> String {
        self.rules
            .effective_cancellation_cutoff()
            .cancellation_sentence()
    }
}

impl From<PeriodRow> for Period {
    fn from(row: PeriodRow) -> Self {
        Period {
            id: row.id,
            restaurant_id: row.restaurant_id,
            restaurant_name: row.restaurant_name,
            activity: row.activity,
            label: row.label,
            service: row.service.0,
            rules: row.rules.0,
            payment: row.payment.0,
            unit_price: row.unit_price,
            capacity: row.capacity,
        }
    }
}

pub async fn create(cantine: &Cantine, caller: &Caller, new: NewPeriod) -> AppResult<Uuid> {
    validate_period(&new)?;
    let restaurant_capacity = db::reference::restaurant_capacity(
        &cantine.pool,
        cantine.organisation.id,
        new.restaurant_id,
    )
    .await?
    .ok_or_else(|| AppError::not_found("restaurant"))?;
    let id = db::reference::insert_period(
        &cantine.pool,
        db::reference::NewPeriod {
            restaurant_id: new.restaurant_id,
            activity: new.activity.trim().to_string(),
            label: new.label.trim().to_string(),
            service: new.service,
            rules: PeriodRules {
                closures: with_public_holidays(
                    new.rules.closures,
                    new.public_holidays,
                    new.rules.from,
                    new.rules.to,
                ),
                ..new.rules
            },
            payment: new.payment,
            unit_price: new.unit_price,
            capacity: new.capacity.unwrap_or(restaurant_capacity),
        },
    )
    .await?;
    log_change(caller, "period created", id);
    Ok(id)
}

/// The period, or `not_found` when it is not one of the organisation's.
pub async fn get(cantine: &Cantine, id: Uuid) -> AppResult<Period> {
    db::reference::period(&cantine.pool, cantine.organisation.id, id)
        .await?
        .map(Period::from)
        .ok_or_else(|| AppError::not_found("period"))
}

/// The periods of one restaurant, or of all, by restaurant then creation.
pub async fn list(cantine: &Cantine, restaurant: Option<Uuid>) -> AppResult<Vec<Period>> {
    Ok(
        db::reference::periods(&cantine.pool, cantine.organisation.id)
            .await?
            .into_iter()
            .filter(|p| restaurant.is_none_or(|r| r == p.restaurant_id))
            .map(Period::from)
            .collect(),
    )
}

/// The closures, with France's public holidays between `from` and `to` when wanted.
pub(super) fn with_public_holidays(
    mut closures: Vec<Closure>,
    wanted: bool,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Closure> {
    if wanted {
        closures.extend(Closure::public_holidays(from, to));
    }
    closures
}

pub(super) fn invalid(detail: impl Into<String>) -> AppError {
    AppError::rule("invalid_period", detail)
}

fn validate_period(new: &NewPeriod) -> AppResult<()> {
    non_empty("activity", &new.activity)?;
    non_empty("label", &new.label)?;
    non_empty("service.label", &new.service.label)?;
    if new.service.start >= new.service.end {
        return Err(invalid("the service must end after it starts"));
    }
    if new.rules.from > new.rules.to {
        return Err(invalid("`from` must not be after `to`"));
    }
    if !period_length_allowed(new.rules.from, new.rules.to) {
        return Err(AppError::rule(
            "period_too_long",
            "a period lasts two years at most",
        ));
    }
    if new.rules.opening_days.is_empty() {
        return Err(invalid("at least one opening day is needed"));
    }
    validate_closures(&new.rules.closures)?;
    if !valid_price(new.unit_price) {
        return Err(invalid(
            "unit_price must be a non-negative amount with at most two decimals",
        ));
    }
    if new.capacity.is_some_and(|c| c < 0) {
        return Err(invalid("capacity must be zero or more"));
    }
    if let BookingCutoff::DaysBefore { days, .. } = new.rules.booking_cutoff {
        if days > 365 {
            return Err(invalid(
                "a cut-off more than a year before the meal is not a cut-off",
            ));
        }
    }
    if let PaymentMode::Prepaid { hold_minutes } = new.payment {
        if !(1..=7 * 24 * 60).contains(&hold_minutes) {
            return Err(invalid("hold_minutes must be between 1 and 10080"));
        }
    }
    Ok(())
}
