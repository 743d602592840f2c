//! What kitchens read: the daily headcount of a restaurant per service and meal option.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Duration, NaiveDate};
use chrono_tz::Europe::Paris;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::Cantine;
use crate::db;
use crate::web::api::admin::MEAL_OPTIONS;
use crate::web::csv_response::{csv_response, wants_csv};
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiPath, ApiQuery};

#[derive(Deserialize, IntoParams)]
pub struct RangeQuery {
    /// First day (default: today)
    pub from: Option<NaiveDate>,
    /// Last day (default: two weeks after `from`)
    pub to: Option<NaiveDate>,
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

const MAX_DAYS: i64 = 366;

/// (period, date, service)
type ServiceDay = (Uuid, NaiveDate, String);
/// (meal option, booked, awaiting payment)
type OptionCount = (String, i32, i32);

pub fn range(state: &Cantine, query: &RangeQuery) -> ApiResult<(NaiveDate, NaiveDate)> {
    let from = query
        .from
        .unwrap_or_else(|| state.clock.now().with_timezone(&Paris).date_naive());
    let to = query.to.unwrap_or(from + Duration::days(13));
    if to < from || (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "`to` must not be before `from`, and the range at most a year",
        ));
    }
    Ok((from, to))
}

#[utoipa::path(get, path = "/api/v1/restaurants/{id}/headcounts", tag = "kitchen",
    params(("id" = Uuid, Path), RangeQuery),
    responses((status = 200, body = Vec<Headcount>, description = "JSON, or CSV with Accept: text/csv"),
              (status = 404, body = crate::web::error::Problem)))]
pub async fn headcounts(
    State(state): State<Cantine>,
    ApiPath(restaurant_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<RangeQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (from, to) = range(&state, &query)?;
    let rows = headcount_rows(&state, restaurant_id, from, to).await?;
    if wants_csv(&headers) {
        let mut header = vec!["date", "service", "booked", "awaiting_payment", "capacity"];
        header.extend(MEAL_OPTIONS);
        let records = rows
            .iter()
            .map(|r| {
                let mut record = vec![
                    r.date.to_string(),
                    r.service.clone(),
                    r.booked.to_string(),
                    r.awaiting_payment.to_string(),
                    r.capacity.to_string(),
                ];
                record.extend(
                    MEAL_OPTIONS
                        .iter()
                        .map(|o| r.by_meal_option.get(*o).copied().unwrap_or(0).to_string()),
                );
                record
            })
            .collect();
        return csv_response(&format!("effectifs-{from}-{to}.csv"), &header, records);
    }
    Ok(Json(rows).into_response())
}

/// The headcount of a restaurant per service day from `from` to `to`, read from the headcount
/// projection: what the API's route and the back office's kitchen page both show.
pub async fn headcount_rows(
    state: &Cantine,
    restaurant_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<Headcount>> {
    if db::reference::restaurant_capacity(&state.pool, state.organisation.id, restaurant_id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("restaurant"));
    }
    state.fresh(crate::projections::reservations::NAME).await;
    let counted: Vec<(Uuid, NaiveDate, String, String, i32, i32)> = sqlx::query_as(
        "SELECT period_id, date, service, meal_option, booked, awaiting_payment FROM headcount_view
          WHERE restaurant_id = $1 AND date BETWEEN $2 AND $3",
    )
    .bind(restaurant_id)
    .bind(from)
    .bind(to)
    .fetch_all(&state.pool)
    .await?;
    let mut by_day: HashMap<ServiceDay, Vec<OptionCount>> = HashMap::new();
    for (period, date, service, option, booked, awaiting) in counted {
        by_day
            .entry((period, date, service))
            .or_default()
            .push((option, booked, awaiting));
    }
    let mut rows = Vec::new();
    for period in db::reference::periods(&state.pool, state.organisation.id).await? {
        if period.restaurant_id != restaurant_id {
            continue;
        }
        let service = period.service.0.label.clone();
        for date in period
            .rules
            .0
            .service_days()
            .filter(|d| *d >= from && *d <= to)
        {
            let counts = by_day
                .remove(&(period.id, date, service.clone()))
                .unwrap_or_default();
            let mut by_option: BTreeMap<String, i64> =
                MEAL_OPTIONS.iter().map(|o| (o.to_string(), 0)).collect();
            let mut awaiting_by_option = by_option.clone();
            for (option, booked, awaiting) in &counts {
                *by_option.entry(option.clone()).or_default() += *booked as i64;
                *awaiting_by_option.entry(option.clone()).or_default() += *awaiting as i64;
            }
            rows.push(Headcount {
                date,
                service: service.clone(),
                period_id: period.id,
                booked: by_option.values().sum(),
                awaiting_payment: awaiting_by_option.values().sum(),
                capacity: period.capacity,
                by_meal_option: by_option,
                awaiting_by_meal_option: awaiting_by_option,
            });
        }
    }
    rows.sort_by(|a, b| (a.date, &a.service).cmp(&(b.date, &b.service)));
    Ok(rows)
}
