//! A family's reservations: request days, confirm, cancel, and the history.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::money::money;
use crate::app::Cantine;
use crate::domain::reservation::{
    format_number, RequestedDays, Reservation, ReservationCommand, ReservationStatus,
};
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

fn days_of(reservation: &Reservation) -> Vec<PricedDay> {
    reservation
        .active_days()
        .map(|d| PricedDay {
            date: d.date,
            unit_price: money(d.unit_price),
        })
        .collect()
}

/// A euro amount as French readers write it: `4,97 €`.
pub fn euros(amount: Decimal) -> String {
    format!("{} €", money(amount).replace('.', ","))
}

#[utoipa::path(post, path = "/api/v1/reservations", tag = "reservations", request_body = NewReservation,
    responses((status = 201, body = RequestedReservation), (status = 404, body = crate::web::error::Problem), (status = 422, body = crate::web::error::Problem)))]
pub async fn create(
    State(state): State<Cantine>,
    caller: Caller,
    ApiJson(body): ApiJson<NewReservation>,
) -> ApiResult<(StatusCode, Json<RequestedReservation>)> {
    let family_id = caller.family()?;
    let (days, partial) = match (body.days, body.selection) {
        (Some(days), None) => (RequestedDays::Explicit(days), body.partial.unwrap_or(false)),
        (None, Some(selection)) => (RequestedDays::Selection(selection), true),
        _ => {
            return Err(ApiError::bad_request(
                "malformed_body",
                "give either `days` or `selection`",
            ))
        }
    };
    let id = Uuid::new_v4();
    let command = ReservationCommand::Request {
        reservation_id: id,
        family_id,
        child_id: body.child_id,
        period_id: body.period_id,
        days,
        partial,
    };
    let reservation = state.commands.execute(id, command, &caller.meta()).await?;
    let requested = reservation
        .requested
        .as_ref()
        .ok_or_else(|| ApiError::internal("a request without its event"))?;
    let mut outcomes: Vec<DayOutcome> = requested
        .days
        .iter()
        .map(|d| DayOutcome {
            date: d.date,
            outcome: "booked",
        })
        .chain(requested.refused.iter().map(|r| DayOutcome {
            date: r.date,
            outcome: r.reason.outcome(),
        }))
        .collect();
    outcomes.sort_by_key(|o| o.date);
    let mut recap: Vec<String> = requested
        .days
        .iter()
        .map(|d| {
            format!(
                "Réservation ajoutée : {} - Prix : {}",
                d.date.format("%d/%m/%Y"),
                euros(d.unit_price)
            )
        })
        .collect();
    recap.extend(requested.refused.iter().map(|r| {
        format!(
            "Non réservé : {} - {}",
            r.date.format("%d/%m/%Y"),
            r.reason.french()
        )
    }));
    Ok((
        StatusCode::CREATED,
        Json(RequestedReservation {
            id,
            number: format_number(requested.number),
            status: reservation.status.as_str(),
            days: days_of(&reservation),
            total: money(reservation.total),
            counts: Counts {
                booked: requested.days.len(),
                refused: requested.refused.len(),
                cancelled: 0,
            },
            outcomes,
            recap,
            confirm_before: requested.confirm_before,
        }),
    ))
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
    caller.family()?;
    let reservation = state
        .commands
        .execute(
            id,
            ReservationCommand::Confirm {
                actor: caller.actor(),
            },
            &caller.meta(),
        )
        .await?;
    Ok(Json(Confirmation {
        status: reservation.status.as_str(),
        pay_before: reservation.pay_before,
        total: money(reservation.total),
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
    let before = state.commands.load(id).await?;
    let reservation = state
        .commands
        .execute(
            id,
            ReservationCommand::Cancel {
                actor: caller.actor(),
                days,
            },
            &caller.meta(),
        )
        .await?;
    let cancelled_days = before
        .active_days()
        .filter(|d| {
            reservation
                .days
                .iter()
                .any(|after| after.date == d.date && after.cancelled)
        })
        .map(|d| d.date)
        .collect();
    let credited = if before.status == ReservationStatus::Paid {
        before.total - reservation.total
    } else {
        Decimal::ZERO
    };
    let credit_note = if credited.is_zero() {
        None
    } else {
        crate::app::credit_notes::issue_missing(&state, Some(id), &caller.request_id)
            .await?
            .pop()
            .map(|note| note.number)
    };
    Ok(Json(Cancellation {
        status: reservation.status.as_str(),
        cancelled_days,
        total: money(reservation.total),
        credited: money(credited),
        credit_note,
    }))
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

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct HistoryItem {
    pub id: Uuid,
    #[sqlx(skip)]
    pub number: String,
    #[serde(skip)]
    #[sqlx(rename = "number")]
    pub number_value: i64,
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
    #[serde(skip)]
    pub total_value: Decimal,
    #[sqlx(skip)]
    pub total: String,
    pub pay_before: Option<DateTime<Utc>>,
}

impl HistoryItem {
    fn finish(mut self) -> Self {
        self.number = format_number(self.number_value as u64);
        self.total = money(self.total_value);
        self
    }
}

#[derive(Serialize, ToSchema)]
pub struct History {
    pub items: Vec<HistoryItem>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

const ITEM_COLUMNS: &str =
    "id, number, child_first_name || ' ' || child_last_name AS child, child_id,
    restaurant_name AS establishment, restaurant_id AS establishment_id,
    period_activity || ' ' || period_label AS period, period_id, created_at, first_day, last_day,
    status, total AS total_value, pay_before";

const STATUSES: [&str; 6] = [
    "requested",
    "awaiting_payment",
    "paid",
    "confirmed",
    "expired",
    "cancelled",
];

#[utoipa::path(get, path = "/api/v1/reservations", tag = "reservations", params(HistoryQuery),
    responses((status = 200, body = History), (status = 400, body = crate::web::error::Problem)))]
pub async fn list(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<History>> {
    let family_id = caller.family()?;
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(5);
    if page == 0 || !(1..=100).contains(&per_page) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "page starts at 1; per_page is between 1 and 100",
        ));
    }
    if let Some(status) = query.status.as_deref() {
        if !STATUSES.contains(&status) {
            return Err(ApiError::bad_request(
                "invalid_parameter",
                format!("unknown status {status}"),
            ));
        }
    }
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let number: Option<i64> = search.and_then(|q| q.parse().ok());
    let pattern = search.map(|q| {
        format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    state.fresh(crate::projections::reservations::NAME).await;
    let filter = "family_id = $1
        AND ($2::uuid IS NULL OR child_id = $2)
        AND ($3::text IS NULL OR status = $3)
        AND ($4::text IS NULL OR number = $5 OR (child_first_name || ' ' || child_last_name) ILIKE $4
             OR (child_last_name || ' ' || child_first_name) ILIKE $4)";
    let (total,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(*) FROM reservation_view WHERE {filter}"
    ))
    .bind(family_id)
    .bind(query.child_id)
    .bind(query.status.as_deref())
    .bind(pattern.as_deref())
    .bind(number)
    .fetch_one(&state.pool)
    .await?;
    let items: Vec<HistoryItem> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM reservation_view WHERE {filter}
          ORDER BY created_at DESC, number DESC LIMIT $6 OFFSET $7"
    ))
    .bind(family_id)
    .bind(query.child_id)
    .bind(query.status.as_deref())
    .bind(pattern.as_deref())
    .bind(number)
    .bind(per_page as i64)
    .bind((page as i64 - 1) * per_page as i64)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(History {
        items: items.into_iter().map(HistoryItem::finish).collect(),
        total,
        page,
        per_page,
    }))
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct DayView {
    pub date: NaiveDate,
    pub status: String,
    #[serde(skip)]
    pub unit_price_value: Decimal,
    #[sqlx(skip)]
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
    let family_id = caller.family()?;
    state.fresh(crate::projections::reservations::NAME).await;
    let item: HistoryItem = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM reservation_view WHERE id = $1 AND family_id = $2"
    ))
    .bind(id)
    .bind(family_id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| ApiError::not_found("reservation"))?;
    let days: Vec<DayView> = sqlx::query_as(
        "SELECT d.date, day_status(d.date = ANY(r.cancelled_dates), r.status) AS status,
                d.unit_price AS unit_price_value
           FROM reservation_view r, unnest(r.dates, r.unit_prices) AS d(date, unit_price)
          WHERE r.id = $1 ORDER BY d.date",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(ReservationDetail {
        item: item.finish(),
        days: days
            .into_iter()
            .map(|mut d| {
                d.unit_price = money(d.unit_price_value);
                d
            })
            .collect(),
    }))
}
