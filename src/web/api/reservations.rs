//! A family's reservations: request days, confirm, cancel, and the history.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::money::money;
use crate::app::queries::history;
use crate::app::{reservations, Cantine};
use crate::domain::reservation::{RequestedDays, ReservationStatus};
use crate::domain::selection::DaySelection;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, Caller};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReservation {
    pub child_id: Uuid,
    pub period_id: Uuid,
    /// The days, one by one: all booked or none (unless `partial`).
    pub days: Option<Vec<NaiveDate>>,
    /// Or a bulk choice: `{"kind": "weekdays", "weekdays": ["mon","thu"], "from", "to"}`,
    /// `{"kind": "week", "date"}` or `{"kind": "whole_period"}`. What can be booked is booked,
    /// the rest is reported day by day.
    #[schema(value_type = Option<Object>)]
    pub selection: Option<DaySelection>,
    /// With `days`: book what can be booked and report the rest (default false).
    pub partial: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct PricedDay {
    pub date: NaiveDate,
    pub unit_price: String,
}

#[derive(Serialize, ToSchema)]
pub struct DayOutcome {
    pub date: NaiveDate,
    /// `booked`, or why not: `full`, `closed`, `past_cutoff`, `already_booked`,
    /// `outside_period`, `not_open`
    pub outcome: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Counts {
    pub booked: usize,
    pub refused: usize,
    pub cancelled: usize,
}

#[derive(Serialize, ToSchema)]
pub struct RequestedReservation {
    pub id: Uuid,
    pub number: String,
    pub status: &'static str,
    pub days: Vec<PricedDay>,
    pub total: String,
    pub outcomes: Vec<DayOutcome>,
    pub counts: Counts,
    /// The recap parents read, day by day ("Réservation ajoutée : 15/05/2025 - Prix : 4,97 €").
    pub recap: Vec<String>,
    /// Until when the places are held unless confirmed.
    pub confirm_before: Option<DateTime<Utc>>,
}

fn priced(days: &[reservations::PricedDay]) -> Vec<PricedDay> {
    days.iter()
        .map(|d| PricedDay {
            date: d.date,
            unit_price: money(d.unit_price),
        })
        .collect()
}

#[utoipa::path(post, path = "/api/v1/reservations", tag = "reservations", request_body = NewReservation,
    responses((status = 201, body = RequestedReservation), (status = 404, body = crate::web::error::Problem), (status = 422, body = crate::web::error::Problem)))]
pub async fn create(
    State(state): State<Cantine>,
    caller: Caller,
    ApiJson(body): ApiJson<NewReservation>,
) -> ApiResult<(StatusCode, Json<RequestedReservation>)> {
    caller.family()?;
    let (days, partial) = body.requested_days()?;
    let requested = reservations::request(
        &state,
        &caller,
        body.child_id,
        body.period_id,
        days,
        partial,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(requested.into())))
}

impl NewReservation {
    /// The days asked for, and whether what can be booked is booked when some cannot.
    pub fn requested_days(&self) -> ApiResult<(RequestedDays, bool)> {
        match (&self.days, &self.selection) {
            (Some(days), None) => Ok((
                RequestedDays::Explicit(days.clone()),
                self.partial.unwrap_or(false),
            )),
            (None, Some(selection)) => Ok((RequestedDays::Selection(selection.clone()), true)),
            _ => Err(ApiError::bad_request(
                "malformed_body",
                "give either `days` or `selection`",
            )),
        }
    }
}

impl From<reservations::Requested> for RequestedReservation {
    fn from(requested: reservations::Requested) -> Self {
        RequestedReservation {
            id: requested.id,
            number: requested.number,
            status: requested.status.as_str(),
            days: priced(&requested.days),
            total: money(requested.total),
            counts: Counts {
                booked: requested.booked,
                refused: requested.refused,
                cancelled: 0,
            },
            outcomes: requested
                .outcomes
                .iter()
                .map(|o| DayOutcome {
                    date: o.date,
                    outcome: o.code(),
                })
                .collect(),
            recap: requested.recap,
            confirm_before: requested.confirm_before,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Confirmation {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_before: Option<DateTime<Utc>>,
    pub total: String,
}

#[utoipa::path(post, path = "/api/v1/reservations/{id}/confirm", tag = "reservations",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Confirmation), (status = 404, body = crate::web::error::Problem), (status = 409, body = crate::web::error::Problem)))]
pub async fn confirm(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Confirmation>> {
    let confirmed = reservations::confirm(&state, &caller, id).await?;
    Ok(Json(Confirmation {
        status: confirmed.status.as_str(),
        pay_before: confirmed.pay_before,
        total: money(confirmed.total),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelDays {
    /// The days to cancel; without it, every day still booked.
    pub days: Option<Vec<NaiveDate>>,
}

#[derive(Serialize, ToSchema)]
pub struct Cancellation {
    pub status: &'static str,
    pub cancelled_days: Vec<NaiveDate>,
    pub total: String,
    /// What the family is credited for paid days (spent by its next payment).
    pub credited: String,
    /// The credit note of that credit (`AV-2017-000001`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_note: Option<String>,
    /// Only for a cancellation by staff past the family's cut-off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late: Option<LateCancellation>,
}

#[utoipa::path(post, path = "/api/v1/reservations/{id}/cancel", tag = "reservations",
    params(("id" = Uuid, Path)), request_body(content = CancelDays, description = "optional"),
    responses((status = 200, body = Cancellation), (status = 404, body = crate::web::error::Problem), (status = 409, body = crate::web::error::Problem)))]
pub async fn cancel(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> ApiResult<Json<Cancellation>> {
    caller.family()?;
    // The body is optional: an empty one cancels everything.
    let days = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<CancelDays>(&body)
            .map_err(|e| ApiError::bad_request("malformed_body", e.to_string()))?
            .days
    };
    let cancelled = reservations::cancel(&state, &caller, id, days).await?;
    Ok(Json(cancelled.into()))
}

impl From<reservations::Cancelled> for Cancellation {
    fn from(cancelled: reservations::Cancelled) -> Self {
        Cancellation {
            status: cancelled.status.as_str(),
            cancelled_days: cancelled.cancelled_days,
            total: money(cancelled.total),
            credited: money(cancelled.credited),
            credit_note: cancelled.credit_note.map(|note| note.number),
            late: cancelled.late.map(|late| LateCancellation {
                days: late.days,
                reason: late.reason.as_str(),
                outcome: late.outcome.as_str(),
                amount: money(late.amount),
            }),
        }
    }
}

/// Days cancelled past the family's cut-off by the town's staff, and what the family gets back.
#[derive(Serialize, ToSchema)]
pub struct LateCancellation {
    pub days: Vec<NaiveDate>,
    /// `medical_certificate`, `strike`, `school_outing` or `closure`
    pub reason: &'static str,
    /// `credit_note`, `refund` (a credit note that finance pays back) or `nothing` (unpaid days)
    pub outcome: &'static str,
    /// What the family gets back for these days.
    pub amount: String,
}

#[derive(Deserialize, IntoParams)]
pub struct HistoryQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// Only this child's reservations.
    pub child_id: Option<Uuid>,
    /// Search by number (`14` or `00014`) or by the child's name.
    pub q: Option<String>,
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryItem {
    pub id: Uuid,
    pub number: String,
    pub child: String,
    pub child_id: Uuid,
    pub establishment: String,
    pub establishment_id: Uuid,
    pub period: String,
    pub period_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub status: String,
    pub total: String,
    pub pay_before: Option<DateTime<Utc>>,
}

impl From<history::HistoryItem> for HistoryItem {
    fn from(item: history::HistoryItem) -> Self {
        HistoryItem {
            id: item.id,
            number: item.number.to_string(),
            child: item.child,
            child_id: item.child_id,
            establishment: item.establishment,
            establishment_id: item.establishment_id,
            period: item.period,
            period_id: item.period_id,
            created_at: item.created_at,
            first_day: item.first_day,
            last_day: item.last_day,
            status: item.status.as_str().to_string(),
            total: money(item.total),
            pay_before: item.pay_before,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct History {
    pub items: Vec<HistoryItem>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[utoipa::path(get, path = "/api/v1/reservations", tag = "reservations", params(HistoryQuery),
    responses((status = 200, body = History), (status = 400, body = crate::web::error::Problem)))]
pub async fn list(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<History>> {
    caller.family()?;
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(5);
    // Paging is checked before the status, as the contract has always answered.
    history::check_paging(page, per_page)?;
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => Some(ReservationStatus::parse(text).ok_or_else(|| {
            ApiError::bad_request("invalid_parameter", format!("unknown status {text}"))
        })?),
    };
    let found = history::history(
        &state,
        &caller,
        history::HistoryQuery {
            page,
            per_page,
            child_id: query.child_id,
            search: query.q,
            status,
        },
    )
    .await?;
    Ok(Json(History {
        items: found.items.into_iter().map(HistoryItem::from).collect(),
        total: found.total,
        page: found.page,
        per_page: found.per_page,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct DayView {
    pub date: NaiveDate,
    pub status: String,
    pub unit_price: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReservationDetail {
    #[serde(flatten)]
    pub item: HistoryItem,
    pub days: Vec<DayView>,
}

#[utoipa::path(get, path = "/api/v1/reservations/{id}", tag = "reservations", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReservationDetail), (status = 404, body = crate::web::error::Problem)))]
pub async fn detail(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ReservationDetail>> {
    let detail = history::detail(&state, &caller, id).await?;
    Ok(Json(ReservationDetail {
        item: detail.item.into(),
        days: detail
            .days
            .into_iter()
            .map(|d| DayView {
                date: d.date,
                status: d.status.as_str().to_string(),
                unit_price: money(d.unit_price),
            })
            .collect(),
    }))
}
