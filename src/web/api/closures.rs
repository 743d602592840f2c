//! Closures edited after a period is created (a strike, a works week, a new public holiday).
//! Meals already held on a day that becomes closed stay booked: refunding or moving them is
//! staff's decision, so the answer lists those days instead of cancelling anything
//! (`app::administration::closures`).

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::administration::closures;
use crate::app::{Caller, Cantine};
use crate::domain::period::Closure;
use crate::web::error::ApiResult;
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
    caller: Caller,
    ApiPath(period_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewClosures>,
) -> ApiResult<Json<ClosuresSet>> {
    let set = closures::replace(
        &state,
        &caller,
        period_id,
        body.closures,
        body.public_holidays,
    )
    .await?;
    Ok(Json(ClosuresSet {
        closures: set.closures,
        booked_days_now_closed: set.booked_days_now_closed,
    }))
}
