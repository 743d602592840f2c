//! What the finance office reads: the invoices issued over a range of days.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::kitchen::RangeQuery;
use super::money::money;
use super::payments::Invoice;
use crate::app::queries::finance;
use crate::app::Cantine;
use crate::web::csv_response::{csv_response, wants_csv};
use crate::web::error::ApiResult;
use crate::web::extract::ApiQuery;

#[utoipa::path(get, path = "/api/v1/finance/invoices", tag = "finance", params(RangeQuery),
    responses((status = 200, body = Vec<Invoice>, description = "JSON, or CSV with Accept: text/csv")))]
pub async fn invoices(
    State(state): State<Cantine>,
    ApiQuery(query): ApiQuery<RangeQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let range = query.range(&state)?;
    let issued = finance::issued_between(&state, range).await?;
    if wants_csv(&headers) {
        let records = issued
            .into_iter()
            .map(|i| {
                let line = finance::DocumentLine::from(i);
                vec![
                    line.number,
                    line.issued_on.to_string(),
                    line.family_name,
                    line.family_id.to_string(),
                    line.kind.as_str().into(),
                    line.month.unwrap_or_default(),
                    line.meals.to_string(),
                    money(line.total),
                ]
            })
            .collect();
        let name = format!("factures-{}-{}.csv", range.from, range.to);
        return csv_response(
            &name,
            &[
                "number",
                "issued_on",
                "family",
                "family_id",
                "kind",
                "month",
                "meals",
                "total",
            ],
            records,
        );
    }
    Ok(Json(issued.into_iter().map(Invoice::from).collect::<Vec<_>>()).into_response())
}
