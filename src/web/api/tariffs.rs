//! Tariffs by family income bracket: staff add a period's price lists and set each family's
//! quotient familial. Prices already booked never move: they are in the events.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::money::money;
use crate::app::Cantine;
use crate::db;
use crate::domain::tariff::{Bracket, PriceList};
use crate::web::error::{ApiError, ApiResult};
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

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::rule("invalid_tariff", detail)
}

fn price_list(body: NewPriceList) -> ApiResult<PriceList> {
    let brackets = body
        .brackets
        .into_iter()
        .map(|b| {
            let up_to = b
                .up_to
                .map(|q| i32::try_from(q).map_err(|_| invalid("an upper bound is out of range")))
                .transpose()?;
            Ok(Bracket {
                up_to,
                unit_price: b.unit_price,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    PriceList::new(body.effective_from, brackets).map_err(|e| invalid(e.to_string()))
}

async fn known_period(state: &Cantine, period_id: Uuid) -> ApiResult<()> {
    db::reference::period(&state.pool, state.organisation.id, period_id)
        .await?
        .ok_or_else(|| ApiError::not_found("period"))?;
    Ok(())
}

/// Adds a price list to a period, in effect from `effective_from`. Lists are not edited: a
/// change of prices is a new list from a later date.
#[utoipa::path(post, path = "/api/v1/admin/periods/{id}/tariffs", tag = "admin", request_body = NewPriceList,
    params(("id" = Uuid, Path, description = "period id")),
    responses((status = 201, body = PriceListView), (status = 404, body = crate::web::error::Problem),
              (status = 409, body = crate::web::error::Problem), (status = 422, body = crate::web::error::Problem)))]
pub async fn create(
    State(state): State<Cantine>,
    ApiPath(period_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewPriceList>,
) -> ApiResult<(StatusCode, Json<PriceListView>)> {
    known_period(&state, period_id).await?;
    let list = price_list(body)?;
    if db::tariffs::insert_price_list(&state.pool, period_id, &list)
        .await?
        .is_none()
    {
        return Err(ApiError::conflict(
            "tariff_exists",
            "this period already has a price list from that date; add one from a later date",
        ));
    }
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
    known_period(&state, period_id).await?;
    let lists = db::tariffs::price_lists(&state.pool, period_id).await?;
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
    ApiPath(family_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<QuotientBody>,
) -> ApiResult<Json<QuotientSet>> {
    let quotient = quotient_value(body.quotient)?;
    if !db::tariffs::set_quotient(&state.pool, state.organisation.id, family_id, quotient).await? {
        return Err(ApiError::not_found("family"));
    }
    Ok(Json(QuotientSet {
        family_id,
        quotient,
    }))
}

/// A quotient as stored, or the refusal: checked on its own so that a form that changes other
/// things too (the back office's family form) can refuse before changing anything.
pub fn quotient_value(quotient: Option<i64>) -> ApiResult<Option<i32>> {
    quotient
        .map(|q| {
            i32::try_from(q).ok().filter(|q| *q >= 0).ok_or_else(|| {
                ApiError::rule(
                    "invalid_quotient",
                    "quotient must be a whole number of euros, zero or more, or null",
                )
            })
        })
        .transpose()
}
