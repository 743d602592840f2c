//! What a family reads before booking: its children, the establishments and their periods, and
//! a child's month calendar.

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::money::money;
use crate::app::Cantine;
use crate::db;
use crate::db::reference::{ChildRow, PeriodRow};
use crate::domain::period::{
    month_bounds, Closure, DayRefusal, PaymentMode, ServiceHours, Weekday,
};
use crate::domain::tariff::DayPrices;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiPath, ApiQuery, Caller};

#[derive(Serialize, ToSchema)]
pub struct FamilyView {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = Vec<Object>)]
    pub children: Vec<ChildRow>,
}

#[utoipa::path(get, path = "/api/v1/family", tag = "family", responses((status = 200, body = FamilyView)))]
pub async fn family(State(state): State<Cantine>, caller: Caller) -> ApiResult<Json<FamilyView>> {
    let family_id = caller.family()?;
    let (family, children) = db::reference::family(&state.pool, family_id)
        .await?
        .ok_or_else(|| ApiError::not_found("family"))?;
    Ok(Json(FamilyView {
        id: family.id,
        name: family.name,
        children,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Establishment {
    pub id: Uuid,
    pub name: String,
    pub periods: Vec<PeriodView>,
}

#[derive(Serialize, ToSchema)]
pub struct PeriodView {
    pub id: Uuid,
    pub activity: String,
    pub label: String,
    #[schema(value_type = Object)]
    pub service: ServiceHours,
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[schema(value_type = Vec<String>)]
    pub opening_days: Vec<Weekday>,
    #[schema(value_type = Vec<Object>)]
    pub closures: Vec<Closure>,
    pub unit_price: String,
    #[schema(value_type = Object)]
    pub payment: PaymentMode,
    pub capacity: i32,
    /// The sentence parents read, e.g. "Vous devez réserver avant le mardi de la semaine précédente, 09:30".
    pub booking_rule: String,
    /// The same for cancelling.
    pub cancellation_rule: String,
    /// When bookings open, Paris time; open already when absent.
    #[schema(value_type = Option<String>)]
    pub bookings_open_at: Option<chrono::NaiveDateTime>,
}

impl From<PeriodRow> for PeriodView {
    fn from(p: PeriodRow) -> Self {
        let rules = p.rules.0;
        let cancellation_rule = rules
            .effective_cancellation_cutoff()
            .cancellation_sentence();
        PeriodView {
            id: p.id,
            activity: p.activity,
            label: p.label,
            service: p.service.0,
            from: rules.from,
            to: rules.to,
            opening_days: rules.opening_days,
            closures: rules.closures,
            unit_price: money(p.unit_price),
            payment: p.payment.0,
            capacity: p.capacity,
            booking_rule: rules.booking_cutoff.sentence(),
            cancellation_rule,
            bookings_open_at: rules.bookings_open_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/establishments", tag = "family", responses((status = 200, body = Vec<Establishment>)))]
pub async fn establishments(
    State(state): State<Cantine>,
    caller: Caller,
) -> ApiResult<Json<Vec<Establishment>>> {
    let family_id = caller.family()?;
    let restaurants = db::reference::restaurants(&state.pool, state.organisation.id).await?;
    let quotient = family_quotient(&state, family_id).await?;
    let mut price_lists =
        db::tariffs::price_lists_by_period(&state.pool, state.organisation.id).await?;
    let today = state.clock.paris_today();
    let mut periods: HashMap<Uuid, Vec<PeriodView>> = HashMap::new();
    for period in db::reference::periods(&state.pool, state.organisation.id).await? {
        // The price this family pays for a meal today, so that the parents' estimate is theirs.
        let lists = price_lists.remove(&period.id).unwrap_or_default();
        let price = DayPrices::new(period.unit_price, lists, quotient).price_on(today);
        let restaurant_id = period.restaurant_id;
        let mut view = PeriodView::from(period);
        view.unit_price = money(price);
        periods.entry(restaurant_id).or_default().push(view);
    }
    Ok(Json(
        restaurants
            .into_iter()
            .map(|r| Establishment {
                periods: periods.remove(&r.id).unwrap_or_default(),
                id: r.id,
                name: r.name,
            })
            .collect(),
    ))
}

async fn family_quotient(state: &Cantine, family_id: Uuid) -> ApiResult<Option<i32>> {
    db::tariffs::quotient(&state.pool, state.organisation.id, family_id)
        .await?
        .ok_or_else(|| ApiError::not_found("family"))
}

/// What this family pays for a meal of the period today.
async fn price_today(state: &Cantine, family_id: Uuid, period: &PeriodRow) -> ApiResult<String> {
    let quotient = family_quotient(state, family_id).await?;
    let lists = db::tariffs::price_lists(&state.pool, period.id).await?;
    let prices = DayPrices::new(period.unit_price, lists, quotient);
    Ok(money(prices.price_on(state.clock.paris_today())))
}

#[derive(Deserialize, IntoParams)]
pub struct CalendarQuery {
    pub period_id: Uuid,
    /// `YYYY-MM`
    pub month: String,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarDay {
    pub date: NaiveDate,
    /// `booked`, `awaiting_payment`, `available`, `full`, `closed` or `past_cutoff`
    pub status: &'static str,
    /// Why the day cannot be booked, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct Calendar {
    pub child_id: Uuid,
    pub period_id: Uuid,
    pub month: String,
    pub unit_price: String,
    pub booking_rule: String,
    pub days: Vec<CalendarDay>,
}

#[utoipa::path(get, path = "/api/v1/children/{child_id}/calendar", tag = "family",
    params(("child_id" = Uuid, Path), CalendarQuery),
    responses((status = 200, body = Calendar), (status = 404, body = crate::web::error::Problem)))]
pub async fn calendar(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(child_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<CalendarQuery>,
) -> ApiResult<Json<Calendar>> {
    let family_id = caller.family()?;
    let (first, last) = month_bounds(&query.month).ok_or_else(|| {
        ApiError::bad_request("invalid_parameter", "month must be written YYYY-MM")
    })?;
    if !db::reference::child_belongs_to(&state.pool, child_id, family_id).await? {
        return Err(ApiError::not_found("child"));
    }
    let period = db::reference::period(&state.pool, state.organisation.id, query.period_id)
        .await?
        .ok_or_else(|| ApiError::not_found("period"))?;
    state.fresh(crate::projections::reservations::NAME).await;
    let own: Vec<(NaiveDate, String, Uuid)> = sqlx::query_as(
        "SELECT d.date, d.status, r.id
           FROM reservation_view r,
                LATERAL (SELECT date, day_status(date = ANY(r.cancelled_dates), r.status) AS status
                           FROM unnest(r.dates) AS date) d
          WHERE r.child_id = $1 AND r.period_id = $2 AND r.first_day <= $4 AND r.last_day >= $3
            AND d.date BETWEEN $3 AND $4
            AND d.status IN ('requested', 'awaiting_payment', 'booked')",
    )
    .bind(child_id)
    .bind(period.id)
    .bind(first)
    .bind(last)
    .fetch_all(&state.pool)
    .await?;
    let own: HashMap<NaiveDate, (String, Uuid)> =
        own.into_iter().map(|(d, s, r)| (d, (s, r))).collect();
    // Full is what the places say, the same numbers a booking is checked against.
    let month: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let full = db::places::full_days(
        &state.pool,
        period.restaurant_id,
        &period.service.0.label,
        period.id,
        period.capacity,
        &month,
    )
    .await?;
    let rules = &period.rules.0;
    let now = state.clock.now();
    let days = month
        .into_iter()
        .map(|date| {
            let (status, reason, reservation_id) =
                if let Some((status, reservation)) = own.get(&date) {
                    let status = if status == "booked" {
                        "booked"
                    } else {
                        "awaiting_payment"
                    };
                    (status, None, Some(*reservation))
                } else {
                    match rules.check_bookable(date, now) {
                        Err(DayRefusal::PastCutoff) => ("past_cutoff", Some("past_cutoff"), None),
                        Err(refusal) => ("closed", Some(refusal.outcome()), None),
                        Ok(()) if full.contains(&date) => ("full", Some("day_full"), None),
                        Ok(()) => ("available", None, None),
                    }
                };
            CalendarDay {
                date,
                status,
                reason,
                reservation_id,
            }
        })
        .collect();
    Ok(Json(Calendar {
        child_id,
        period_id: period.id,
        month: query.month,
        unit_price: price_today(&state, family_id, &period).await?,
        booking_rule: rules.booking_cutoff.sentence(),
        days,
    }))
}
