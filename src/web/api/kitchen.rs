//! What kitchens read: the daily headcount of a restaurant per service and meal option.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::queries::day_range::DayRange;
use crate::app::queries::headcounts::{self, MealCounts};
use crate::app::Cantine;
use crate::web::csv_response::{headcounts_csv, wants_csv, CsvStyle};
use crate::web::error::ApiResult;
use crate::web::extract::{ApiPath, ApiQuery};

#[derive(Deserialize, IntoParams)]
pub struct RangeQuery {
    /// First day (default: today)
    pub from: Option<NaiveDate>,
    /// Last day (default: two weeks after `from`)
    pub to: Option<NaiveDate>,
}

impl RangeQuery {
    pub fn range(&self, state: &Cantine) -> ApiResult<DayRange> {
        Ok(DayRange::asked(state, self.from, self.to)?)
    }
}

#[derive(Deserialize, IntoParams)]
pub struct CsvFormat {
    /// CSV only: `standard` (`,`) or `fr` (`;`, French headers, for French spreadsheets)
    pub format: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Headcount {
    pub date: NaiveDate,
    pub service: String,
    pub period_id: Uuid,
    pub booked: i64,
    pub awaiting_payment: i64,
    pub capacity: i32,
    /// Booked meals by option (what to cook).
    pub by_meal_option: BTreeMap<String, i64>,
    /// Places held, awaiting payment, by option.
    pub awaiting_by_meal_option: BTreeMap<String, i64>,
}

fn by_option(counts: &MealCounts) -> BTreeMap<String, i64> {
    counts
        .by_spelling()
        .map(|(option, n)| (option.to_string(), n))
        .collect()
}

impl From<headcounts::Headcount> for Headcount {
    fn from(h: headcounts::Headcount) -> Self {
        Headcount {
            date: h.date,
            booked: h.booked.total(),
            awaiting_payment: h.awaiting_payment.total(),
            capacity: h.capacity,
            by_meal_option: by_option(&h.booked),
            awaiting_by_meal_option: by_option(&h.awaiting_payment),
            service: h.service,
            period_id: h.period_id,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/restaurants/{id}/headcounts", tag = "kitchen",
    params(("id" = Uuid, Path), RangeQuery, CsvFormat),
    responses((status = 200, body = Vec<Headcount>, description = "JSON, or CSV with Accept: text/csv"),
              (status = 404, body = crate::web::error::Problem)))]
pub async fn headcounts(
    State(state): State<Cantine>,
    ApiPath(restaurant_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<RangeQuery>,
    ApiQuery(format): ApiQuery<CsvFormat>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let style = CsvStyle::from_param(format.format.as_deref())?;
    let range = query.range(&state)?;
    let rows = headcounts::headcounts(&state, restaurant_id, range).await?;
    if wants_csv(&headers) {
        return headcounts_csv(style, range, &rows);
    }
    Ok(Json(rows.into_iter().map(Headcount::from).collect::<Vec<_>>()).into_response())
}
