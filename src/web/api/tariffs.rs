//! Tariffs by family income bracket: staff add a period's price lists and set each family's
//! quotient familial (`app::administration::tariffs`). Prices already booked never move: they
//! are in the events.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::money::money;
use crate::app::administration::tariffs;
use crate::app::{Caller, Cantine};
use crate::domain::tariff::PriceList;
use crate::web::error::ApiResult;
use crate::web::extract::{ApiJson, ApiPath};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBracket {
    /// Highest quotient familial of the bracket, in euros, inclusive; null for the open top one.
    pub up_to: Option<i64>,
    #[schema(value_type = String, example = "1.50")]
    pub unit_price: Decimal,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPriceList {
    /// The first meal day the list prices; earlier days keep the previous list's prices.
    pub effective_from: NaiveDate,
    /// Ascending upper bounds, the open top bracket last.
    pub brackets: Vec<NewBracket>,
}

#[derive(Serialize, ToSchema)]
pub struct BracketView {
    pub up_to: Option<i32>,
    pub unit_price: String,
}

#[derive(Serialize, ToSchema)]
pub struct PriceListView {
    pub period_id: Uuid,
    pub effective_from: NaiveDate,
    pub brackets: Vec<BracketView>,
}

impl PriceListView {
    fn new(period_id: Uuid, list: &PriceList) -> Self {
        Self {
            period_id,
            effective_from: list.effective_from,
            brackets: list
                .brackets()
                .iter()
                .map(|b| BracketView {
                    up_to: b.up_to,
                    unit_price: money(b.unit_price),
                })
                .collect(),
        }
    }
}

/// Adds a price list to a period, in effect from `effective_from`. Lists are not edited: a
/// change of prices is a new list from a later date.
#[utoipa::path(post, path = "/api/v1/admin/periods/{id}/tariffs", tag = "admin", request_body = NewPriceList,
    params(("id" = Uuid, Path, description = "period id")),
    responses((status = 201, body = PriceListView), (status = 404, body = crate::web::error::Problem),
              (status = 409, body = crate::web::error::Problem), (status = 422, body = crate::web::error::Problem)))]
pub async fn create(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(period_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewPriceList>,
) -> ApiResult<(StatusCode, Json<PriceListView>)> {
    let brackets = body
        .brackets
        .into_iter()
        .map(|b| tariffs::NewBracket {
            up_to: b.up_to,
            unit_price: b.unit_price,
        })
        .collect();
    let list =
        tariffs::add_price_list(&state, &caller, period_id, body.effective_from, brackets).await?;
    Ok((
        StatusCode::CREATED,
        Json(PriceListView::new(period_id, &list)),
    ))
}

/// The period's price lists, oldest first.
#[utoipa::path(get, path = "/api/v1/admin/periods/{id}/tariffs", tag = "admin",
    params(("id" = Uuid, Path, description = "period id")),
    responses((status = 200, body = Vec<PriceListView>), (status = 404, body = crate::web::error::Problem)))]
pub async fn list(
    State(state): State<Cantine>,
    ApiPath(period_id): ApiPath<Uuid>,
) -> ApiResult<Json<Vec<PriceListView>>> {
    let lists = tariffs::price_lists(&state, period_id).await?;
    Ok(Json(
        lists
            .iter()
            .map(|l| PriceListView::new(period_id, l))
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotientBody {
    /// The quotient familial in euros; null when unknown (the family then pays the top price).
    pub quotient: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct QuotientSet {
    pub family_id: Uuid,
    pub quotient: Option<i32>,
}

/// Sets a family's quotient familial, which decides its bracket in the meals it books from now
/// on; meals already booked keep their price.
#[utoipa::path(put, path = "/api/v1/admin/families/{id}/quotient", tag = "admin", request_body = QuotientBody,
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 200, body = QuotientSet), (status = 404, body = crate::web::error::Problem),
              (status = 422, body = crate::web::error::Problem)))]
pub async fn set_quotient(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(family_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<QuotientBody>,
) -> ApiResult<Json<QuotientSet>> {
    let quotient = tariffs::quotient_value(body.quotient)?;
    tariffs::set_quotient(&state, &caller, family_id, quotient).await?;
    Ok(Json(QuotientSet {
        family_id,
        quotient,
    }))
}
