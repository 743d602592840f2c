//! The kitchen's roll call: the children to serve in a restaurant on a day, per service.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::queries::roll_call;
use crate::app::Cantine;
use crate::domain::reservation::DayStatus;
use crate::web::csv_response::{wants_csv, CsvStyle};
use crate::web::error::ApiResult;
use crate::web::extract::{ApiPath, ApiQuery};
use crate::web::roll_call_csv::roll_call_csv;

#[derive(Deserialize, IntoParams)]
pub struct RollCallQuery {
    /// The day (default: today, in Paris)
    pub date: Option<NaiveDate>,
    /// One service only (its label, `DÉJEUNER`)
    pub service: Option<String>,
    /// CSV only: `standard` (`,`) or `fr` (`;`, French headers, for French spreadsheets)
    pub format: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Diner {
    pub first_name: String,
    pub last_name: String,
    pub meal_option: String,
    /// `booked`, `awaiting_payment` or `requested` (held, not yet confirmed)
    pub status: &'static str,
    pub reservation: String,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceRoll {
    pub service: String,
    /// As many as the headcount's `booked`.
    pub booked: usize,
    /// As many as the headcount's `awaiting_payment`.
    pub awaiting_payment: usize,
    pub unconfirmed: usize,
    pub children: Vec<Diner>,
}

#[derive(Serialize, ToSchema)]
pub struct RollCall {
    pub restaurant_id: Uuid,
    pub restaurant: String,
    pub date: NaiveDate,
    pub services: Vec<ServiceRoll>,
}

impl From<roll_call::RollCall> for RollCall {
    fn from(roll: roll_call::RollCall) -> Self {
        RollCall {
            restaurant_id: roll.restaurant_id,
            restaurant: roll.restaurant,
            date: roll.date,
            services: roll
                .services
                .into_iter()
                .map(|s| ServiceRoll {
                    booked: s.count(DayStatus::Booked),
                    awaiting_payment: s.count(DayStatus::AwaitingPayment),
                    unconfirmed: s.count(DayStatus::Requested),
                    service: s.service,
                    children: s
                        .diners
                        .into_iter()
                        .map(|d| Diner {
                            first_name: d.first_name,
                            last_name: d.last_name,
                            meal_option: d.meal_option,
                            status: d.status.as_str(),
                            reservation: format!("{:05}", d.reservation_number),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/restaurants/{id}/roll-call", tag = "kitchen",
    params(("id" = Uuid, Path), RollCallQuery),
    responses((status = 200, body = RollCall, description = "JSON, or CSV with Accept: text/csv"),
              (status = 404, body = crate::web::error::Problem)))]
pub async fn roll_call(
    State(state): State<Cantine>,
    ApiPath(restaurant_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<RollCallQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let style = CsvStyle::from_param(query.format.as_deref())?;
    let date = query.date.unwrap_or_else(|| state.clock.paris_today());
    let roll = roll_call::roll_call(&state, restaurant_id, date, query.service.as_deref()).await?;
    if wants_csv(&headers) {
        return roll_call_csv(style, &roll);
    }
    Ok(Json(RollCall::from(roll)).into_response())
}
