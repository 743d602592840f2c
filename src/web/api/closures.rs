//! Closures edited after a period is created (a strike, a works week, a new public holiday).
//! Meals already held on a day that becomes closed stay booked: refunding or moving them is
//! staff's decision, so the answer lists those days instead of cancelling anything.

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::types::Json as JsonColumn;
use utoipa::ToSchema;
use uuid::Uuid;

use super::admin::{validate_closures, with_public_holidays};
use crate::app::Cantine;
use crate::db;
use crate::domain::period::{Closure, DayRefusal, PeriodRules};
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiJson, ApiPath};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClosures {
    /// Every closure of the period from now on: `[{"from", "to", "label"}]`.
    #[schema(value_type = Vec<Object>)]
    pub closures: Vec<Closure>,
    /// Adds France's public holidays between the period's `from` and `to`.
    #[serde(default)]
    pub public_holidays: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ClosuresSet {
    #[schema(value_type = Vec<Object>)]
    pub closures: Vec<Closure>,
    /// Days now closed on which meals are held or paid: they stay booked, staff decide.
    pub booked_days_now_closed: Vec<NaiveDate>,
}

/// Replaces the period's closures. New bookings on the closed days are refused `closed_day`;
/// meals already held on them are listed, not cancelled.
#[utoipa::path(put, path = "/api/v1/admin/periods/{id}/closures", tag = "admin", request_body = NewClosures,
    params(("id" = Uuid, Path, description = "period id")),
    responses((status = 200, body = ClosuresSet), (status = 404, body = crate::web::error::Problem),
              (status = 422, body = crate::web::error::Problem)))]
pub async fn replace(
    State(state): State<Cantine>,
    ApiPath(period_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewClosures>,
) -> ApiResult<Json<ClosuresSet>> {
    validate_closures(&body.closures)?;
    let period = db::reference::period(&state.pool, state.organisation.id, period_id)
        .await?
        .ok_or_else(|| ApiError::not_found("period"))?;
    let (from, to) = (period.rules.0.from, period.rules.0.to);
    let closures = with_public_holidays(body.closures, body.public_holidays, from, to);
    // Only the closures change, in one statement: a concurrent edit of the other rules is kept.
    let (rules,): (JsonColumn<PeriodRules>,) = sqlx::query_as(
        "UPDATE periods SET rules = jsonb_set(rules, '{closures}', $2) WHERE id = $1
         RETURNING rules",
    )
    .bind(period_id)
    .bind(JsonColumn(&closures))
    .fetch_one(&state.pool)
    .await?;
    let rules = rules.0;
    // The places' own table rather than a projection: written with the events, it never lags.
    let held: Vec<(NaiveDate,)> = sqlx::query_as(
        "SELECT DISTINCT date FROM held_days
          WHERE restaurant_id = $1 AND service = $2 AND date BETWEEN $3 AND $4
          ORDER BY date",
    )
    .bind(period.restaurant_id)
    .bind(&period.service.0.label)
    .bind(rules.from)
    .bind(rules.to)
    .fetch_all(&state.pool)
    .await?;
    let booked_days_now_closed = held
        .into_iter()
        .map(|(day,)| day)
        .filter(|day| rules.serves_on(*day) == Err(DayRefusal::ClosedDay))
        .collect();
    Ok(Json(ClosuresSet {
        closures: rules.closures,
        booked_days_now_closed,
    }))
}
