//! What a family reads before booking: its children, the establishments and their periods (with
//! the rules in words and this family's price today), and a child's month calendar.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use uuid::Uuid;

use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::db::reference::{ChildRow, PeriodRow};
use crate::domain::period::{
    month_bounds, Closure, DayRefusal, PaymentMode, ServiceHours, Weekday,
};
use crate::domain::reservation::DayStatus;
use crate::domain::tariff::{DayPrices, PriceStep};

pub use crate::domain::calendar_status::CalendarStatus;

pub struct Family {
    pub id: Uuid,
    pub name: String,
    pub children: Vec<ChildRow>,
}

/// The caller's family and its children.
pub async fn family(cantine: &Cantine, caller: &Caller) -> AppResult<Family> {
    let family_id = caller.family()?;
    let (family, children) = db::reference::family(&cantine.pool, family_id)
        .await?
        .ok_or_else(|| AppError::not_found("family"))?;
    Ok(Family {
        id: family.id,
        name: family.name,
        children,
    })
}

/// A period as families read it: its dates, days, service, price and rules in words.
#[derive(Debug, Clone)]
pub struct Period {
    pub id: Uuid,
    pub activity: String,
    pub label: String,
    pub service: ServiceHours,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub opening_days: Vec<Weekday>,
    pub closures: Vec<Closure>,
    /// The period's base price, or (from [`establishments`]) what this family pays today.
    pub unit_price: Decimal,
    pub payment: PaymentMode,
    pub capacity: i32,
    /// "Vous devez réserver avant le mardi de la semaine précédente, 09:30".
    pub booking_rule: String,
    /// The same for cancelling.
    pub cancellation_rule: String,
    /// When bookings open, Paris time; open already when absent.
    pub bookings_open_at: Option<NaiveDateTime>,
    /// What this family pays over the period, step by step, with its bracket (from
    /// [`establishments`]; the period's own price otherwise).
    pub prices: Vec<PriceStep>,
    /// The family's quotient familial (`None`: unknown, or not asked).
    pub quotient: Option<i32>,
}

impl From<PeriodRow> for Period {
    fn from(p: PeriodRow) -> Self {
        let rules = p.rules.0;
        let cancellation_rule = rules
            .effective_cancellation_cutoff()
            .cancellation_sentence();
        Period {
            id: p.id,
            activity: p.activity,
            label: p.label,
            service: p.service.0,
            from: rules.from,
            to: rules.to,
            opening_days: rules.opening_days,
            closures: rules.closures,
            unit_price: p.unit_price,
            payment: p.payment.0,
            capacity: p.capacity,
            booking_rule: rules.booking_cutoff.sentence(),
            cancellation_rule,
            bookings_open_at: rules.bookings_open_at,
            prices: vec![PriceStep {
                from: rules.from,
                to: rules.to,
                unit_price: p.unit_price,
                bracket: None,
            }],
            quotient: None,
        }
    }
}

pub struct Establishment {
    pub id: Uuid,
    pub name: String,
    pub periods: Vec<Period>,
}

/// The organisation's establishments and their periods, each priced for this family today.
pub async fn establishments(cantine: &Cantine, caller: &Caller) -> AppResult<Vec<Establishment>> {
    let family_id = caller.family()?;
    let organisation_id = cantine.organisation.id;
    let restaurants = db::reference::restaurants(&cantine.pool, organisation_id).await?;
    let quotient = family_quotient(cantine, family_id).await?;
    let mut price_lists =
        db::tariffs::price_lists_by_period(&cantine.pool, organisation_id).await?;
    let today = cantine.clock.paris_today();
    let mut periods: HashMap<Uuid, Vec<Period>> = HashMap::new();
    for period in db::reference::periods(&cantine.pool, organisation_id).await? {
        // The price this family pays for a meal today, so that the parents' estimate is theirs.
        let lists = price_lists.remove(&period.id).unwrap_or_default();
        let prices = DayPrices::new(period.unit_price, lists, quotient);
        let restaurant_id = period.restaurant_id;
        let mut view = Period::from(period);
        view.unit_price = prices.price_on(today);
        view.prices = prices.steps(view.from, view.to);
        view.quotient = quotient;
        periods.entry(restaurant_id).or_default().push(view);
    }
    Ok(restaurants
        .into_iter()
        .map(|r| Establishment {
            periods: periods.remove(&r.id).unwrap_or_default(),
            id: r.id,
            name: r.name,
        })
        .collect())
}

/// The period and its restaurant's name, as [`establishments`] shows them (404 otherwise).
pub async fn period_of(
    cantine: &Cantine,
    caller: &Caller,
    period_id: Uuid,
) -> AppResult<(String, Period)> {
    establishments(cantine, caller)
        .await?
        .into_iter()
        .find_map(|e| {
            let name = e.name;
            e.periods
                .into_iter()
                .find(|p| p.id == period_id)
                .map(|p| (name, p))
        })
        .ok_or_else(|| AppError::not_found("period"))
}

async fn family_quotient(cantine: &Cantine, family_id: Uuid) -> AppResult<Option<i32>> {
    db::tariffs::quotient(&cantine.pool, cantine.organisation.id, family_id)
        .await?
        .ok_or_else(|| AppError::not_found("family"))
}

/// The family's quotient familial and when staff last set it.
pub async fn quotient(
    cantine: &Cantine,
    caller: &Caller,
) -> AppResult<(Option<i32>, Option<DateTime<Utc>>)> {
    let family_id = caller.family()?;
    db::tariffs::quotient_set(&cantine.pool, cantine.organisation.id, family_id)
        .await?
        .ok_or_else(|| AppError::not_found("family"))
}

/// The family's prices of the period, with its quotient familial.
async fn family_prices(
    cantine: &Cantine,
    family_id: Uuid,
    period: &PeriodRow,
) -> AppResult<(DayPrices, Option<i32>)> {
    let quotient = family_quotient(cantine, family_id).await?;
    let lists = db::tariffs::price_lists(&cantine.pool, period.id).await?;
    Ok((DayPrices::new(period.unit_price, lists, quotient), quotient))
}

pub struct CalendarDay {
    pub date: NaiveDate,
    pub status: CalendarStatus,
    /// Why the day cannot be booked, when it cannot (a stable code).
    pub reason: Option<&'static str>,
    pub reservation_id: Option<Uuid>,
    /// Whether the canteen opens on this weekday at all (a Wednesday without service does not).
    pub service_weekday: bool,
    /// The closure of the day, when one closes it ("Vacances de Noël").
    pub closure: Option<String>,
    /// The child's place on the day's waiting list (1 for the first), when in line.
    pub waiting_position: Option<i64>,
}

pub struct Calendar {
    pub child_id: Uuid,
    pub period_id: Uuid,
    /// `YYYY-MM`
    pub month: String,
    /// What the family pays for a meal today.
    pub unit_price: Decimal,
    /// What the family pays for the month's meals (within the period), step by step.
    pub prices: Vec<PriceStep>,
    pub quotient: Option<i32>,
    pub booking_rule: String,
    pub days: Vec<CalendarDay>,
}

/// The child's month (`YYYY-MM`) in the period: its own days, and whether each other day can
/// be booked (closed, past the cut-off, full, or available).
pub async fn calendar(
    cantine: &Cantine,
    caller: &Caller,
    child_id: Uuid,
    period_id: Uuid,
    month: String,
) -> AppResult<Calendar> {
    let family_id = caller.family()?;
    let (first, last) = month_bounds(&month)
        .ok_or_else(|| AppError::bad_input("invalid_parameter", "month must be written YYYY-MM"))?;
    if !db::reference::child_belongs_to(&cantine.pool, child_id, family_id).await? {
        return Err(AppError::not_found("child"));
    }
    let period = db::reference::period(&cantine.pool, cantine.organisation.id, period_id)
        .await?
        .ok_or_else(|| AppError::not_found("period"))?;
    cantine.fresh(crate::projections::reservations::NAME).await;
    let active: Vec<&str> = DayStatus::ALL
        .into_iter()
        .filter(|s| s.is_active())
        .map(DayStatus::as_str)
        .collect();
    let own = db::reservation_reads::held_days(
        &cantine.pool,
        child_id,
        period.id,
        (first, last),
        &active,
    )
    .await?;
    let own: HashMap<NaiveDate, (String, Uuid)> =
        own.into_iter().map(|(d, s, r)| (d, (s, r))).collect();
    // Full is what the places say, the same numbers a booking is checked against.
    let days_of_month: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let full = db::places::full_days(
        &cantine.pool,
        period.restaurant_id,
        &period.service.0.label,
        period.id,
        period.capacity,
        child_id,
        &days_of_month,
    )
    .await?;
    cantine.fresh(crate::projections::waitlist::NAME).await;
    let waiting = db::waitlist::positions_of_child(
        &cantine.pool,
        child_id,
        period.restaurant_id,
        &period.service.0.label,
        first,
        last,
    )
    .await?;
    let rules = &period.rules.0;
    let now = cantine.clock.now();
    let days = days_of_month
        .into_iter()
        .map(|date| {
            let (status, reason, reservation_id) =
                if let Some((status, reservation)) = own.get(&date) {
                    // A held day not yet booked waits for its confirmation, or its payment.
                    let status = match DayStatus::parse(status) {
                        Some(DayStatus::Booked) => CalendarStatus::Booked,
                        Some(DayStatus::Requested) => CalendarStatus::Requested,
                        _ => CalendarStatus::AwaitingPayment,
                    };
                    (status, None, Some(*reservation))
                } else {
                    match rules.check_bookable(date, now) {
                        Err(DayRefusal::PastCutoff) => {
                            (CalendarStatus::PastCutoff, Some("past_cutoff"), None)
                        }
                        Err(refusal) => (CalendarStatus::Closed, Some(refusal.outcome()), None),
                        Ok(()) if full.contains(&date) => {
                            (CalendarStatus::Full, Some("day_full"), None)
                        }
                        Ok(()) => (CalendarStatus::Available, None, None),
                    }
                };
            CalendarDay {
                date,
                status,
                reason,
                reservation_id,
                service_weekday: rules.opens_on_weekday(date),
                closure: rules.closure_on(date).map(|c| c.label.clone()),
                waiting_position: waiting.get(&date).copied(),
            }
        })
        .collect();
    let (prices, quotient) = family_prices(cantine, family_id, &period).await?;
    let shown = (first.max(rules.from), last.min(rules.to));
    let month_prices = if shown.0 <= shown.1 {
        prices.steps(shown.0, shown.1)
    } else {
        Vec::new()
    };
    Ok(Calendar {
        child_id,
        period_id: period.id,
        unit_price: prices.price_on(cantine.clock.paris_today()),
        prices: month_prices,
        quotient,
        booking_rule: rules.booking_cutoff.sentence(),
        month,
        days,
    })
}
