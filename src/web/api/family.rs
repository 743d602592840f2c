//! What a family reads before booking: its children, the establishments and their periods, and
//! a child's month calendar.

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::money::money;
use crate::app::queries::{self, family::Period};
use crate::app::Cantine;
use crate::db::reference::{ChildRow, PeriodRow};
use crate::domain::period::{Closure, PaymentMode, ServiceHours, Weekday};
use crate::web::error::ApiResult;
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
    let family = queries::family::family(&state, &caller).await?;
    Ok(Json(FamilyView {
        id: family.id,
        name: family.name,
        children: family.children,
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

impl From<Period> for PeriodView {
    fn from(p: Period) -> Self {
        PeriodView {
            id: p.id,
            activity: p.activity,
            label: p.label,
            service: p.service,
            from: p.from,
            to: p.to,
            opening_days: p.opening_days,
            closures: p.closures,
            unit_price: money(p.unit_price),
            payment: p.payment,
            capacity: p.capacity,
            booking_rule: p.booking_rule,
            cancellation_rule: p.cancellation_rule,
            bookings_open_at: p.bookings_open_at,
        }
    }
}

/// The back office shows a period's rules with its base price.
impl From<PeriodRow> for PeriodView {
    fn from(p: PeriodRow) -> Self {
        Period::from(p).into()
    }
}

#[utoipa::path(get, path = "/api/v1/establishments", tag = "family", responses((status = 200, body = Vec<Establishment>)))]
pub async fn establishments(
    State(state): State<Cantine>,
    caller: Caller,
) -> ApiResult<Json<Vec<Establishment>>> {
    let establishments = queries::family::establishments(&state, &caller).await?;
    Ok(Json(
        establishments
            .into_iter()
            .map(|e| Establishment {
                id: e.id,
                name: e.name,
                periods: e.periods.into_iter().map(PeriodView::from).collect(),
            })
            .collect(),
    ))
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
    /// `booked`, `requested` (held by a request not confirmed yet), `awaiting_payment`,
    /// `available`, `full`, `closed` or `past_cutoff`
    pub status: &'static str,
    /// Why the day cannot be booked, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<Uuid>,
    /// The child's place on the day's waiting list (1 for the first), when in line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_position: Option<i64>,
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
    let calendar =
        queries::family::calendar(&state, &caller, child_id, query.period_id, query.month).await?;
    Ok(Json(Calendar {
        child_id: calendar.child_id,
        period_id: calendar.period_id,
        month: calendar.month,
        unit_price: money(calendar.unit_price),
        booking_rule: calendar.booking_rule,
        days: calendar
            .days
            .into_iter()
            .map(|d| CalendarDay {
                date: d.date,
                status: d.status.as_str(),
                reason: d.reason,
                reservation_id: d.reservation_id,
                waiting_position: d.waiting_position,
            })
            .collect(),
    }))
}
