//! Waiting lists (family): put a child in line for full days, read the family's places in
//! line, leave a line.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::{waitlist, Cantine};
use crate::web::error::ApiResult;
use crate::web::extract::{ApiJson, ApiPath, Caller};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinWaitlist {
    pub child_id: Uuid,
    pub period_id: Uuid,
    /// Full days of the period (a day with a place left is refused: `day_not_full`).
    pub days: Vec<NaiveDate>,
}

#[derive(Serialize, ToSchema)]
pub struct JoinedDay {
    pub date: NaiveDate,
    /// 1 for the first in line.
    pub position: usize,
}

#[derive(Serialize, ToSchema)]
pub struct Joined {
    pub entries: Vec<JoinedDay>,
}

#[derive(Serialize, ToSchema)]
pub struct WaitlistEntry {
    pub child_id: Uuid,
    pub child_first_name: String,
    pub period_id: Uuid,
    pub restaurant_id: Uuid,
    pub restaurant_name: String,
    pub service: String,
    pub date: NaiveDate,
    /// 1 for the first in line.
    pub position: i64,
    pub joined_at: DateTime<Utc>,
}

#[utoipa::path(post, path = "/api/v1/waitlist", tag = "waitlist", request_body = JoinWaitlist,
    responses((status = 201, body = Joined, description = "In line for each day"),
              (status = 404, body = crate::web::error::Problem, description = "Not the family's child, or an unknown period"),
              (status = 409, body = crate::web::error::Problem, description = "Already in line for one of the days (`already_waiting`)"),
              (status = 422, body = crate::web::error::Problem, description = "A day with a place left (`day_not_full`), already booked, closed or past its cut-off")))]
pub async fn join(
    State(state): State<Cantine>,
    caller: Caller,
    ApiJson(body): ApiJson<JoinWaitlist>,
) -> ApiResult<(StatusCode, Json<Joined>)> {
    let joined = waitlist::join(&state, &caller, body.child_id, body.period_id, body.days).await?;
    Ok((
        StatusCode::CREATED,
        Json(Joined {
            entries: joined
                .into_iter()
                .map(|j| JoinedDay {
                    date: j.date,
                    position: j.position,
                })
                .collect(),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/waitlist", tag = "waitlist",
    responses((status = 200, body = Vec<WaitlistEntry>, description = "The family's children in line, by date")))]
pub async fn list(
    State(state): State<Cantine>,
    caller: Caller,
) -> ApiResult<Json<Vec<WaitlistEntry>>> {
    let entries = waitlist::of_family(&state, &caller).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| WaitlistEntry {
                child_id: e.child_id,
                child_first_name: e.child_first_name,
                period_id: e.period_id,
                restaurant_id: e.restaurant_id,
                restaurant_name: e.restaurant_name,
                service: e.service,
                date: e.date,
                position: e.position,
                joined_at: e.joined_at,
            })
            .collect(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/waitlist/{child_id}/{date}", tag = "waitlist",
    params(("child_id" = Uuid, Path), ("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    responses((status = 204, description = "Off the list"),
              (status = 404, body = crate::web::error::Problem, description = "Not the family's child, or not in line that day (`not_waiting`)")))]
pub async fn leave(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath((child_id, date)): ApiPath<(Uuid, NaiveDate)>,
) -> ApiResult<StatusCode> {
    waitlist::leave(&state, &caller, child_id, date).await?;
    Ok(StatusCode::NO_CONTENT)
}
