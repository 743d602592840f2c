//! Finance's month end: the month's invoices, credit notes, payments and refunds as CSV, and
//! the reconciliation report per restaurant, checked against the documents themselves.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::money::money;
use crate::app::queries::finance::{self, ExportDocument, Month};
use crate::app::Cantine;
use crate::web::csv_response::{month_export_csv, reconciliation_csv, wants_csv, CsvStyle};
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiPath, ApiQuery};

#[derive(Deserialize, IntoParams)]
pub struct MonthQuery {
    /// `YYYY-MM`, a month of Paris time.
    pub month: String,
    /// `fr` for `;` and decimal commas (French spreadsheets); `standard` (default) otherwise.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/finance/exports/{document}", tag = "finance",
    params(("document" = String, Path, description = "`invoices`, `credit-notes`, `payments` or `refunds`"), MonthQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = crate::web::error::Problem),
              (status = 404, body = crate::web::error::Problem)))]
pub async fn export(
    State(state): State<Cantine>,
    ApiPath(document): ApiPath<String>,
    ApiQuery(query): ApiQuery<MonthQuery>,
) -> ApiResult<Response> {
    let style = CsvStyle::from_param(query.format.as_deref())?;
    let month = Month::parse(&query.month)?;
    let document = ExportDocument::parse(&document).ok_or_else(|| ApiError::not_found("export"))?;
    let rows = finance::export(&state, &month, document).await?;
    month_export_csv(style, &month, rows)
}

#[derive(Serialize, ToSchema, Clone, Debug, Default, PartialEq)]
pub struct ReconciliationRow {
    pub restaurant: String,
    /// Invoices issued (prepaid and billed later).
    pub invoiced: String,
    /// Credit notes issued.
    pub credited: String,
    /// Money received through the provider.
    pub paid: String,
    /// Money owed back to payers.
    pub refunded: String,
    /// invoiced − credited − paid + refunded: what the month leaves owed (negative: families'
    /// credit still to spend).
    pub outstanding: String,
}

#[derive(Serialize, ToSchema)]
pub struct Reconciliation {
    pub month: String,
    pub restaurants: Vec<ReconciliationRow>,
    pub totals: ReconciliationRow,
    /// Each column checked against its source: the invoices and credit notes issued, the
    /// payments that succeeded, the refunds recorded.
    pub checks: Vec<Check>,
    /// Every check holds, and each row's outstanding is its columns' balance.
    pub balanced: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Check {
    pub column: String,
    pub ledger: String,
    pub source: String,
    pub holds: bool,
}

impl From<&finance::Balance> for ReconciliationRow {
    fn from(b: &finance::Balance) -> Self {
        ReconciliationRow {
            restaurant: b.restaurant.clone(),
            invoiced: money(b.invoiced),
            credited: money(b.credited),
            paid: money(b.paid),
            refunded: money(b.refunded),
            outstanding: money(b.outstanding()),
        }
    }
}

impl From<finance::Reconciliation> for Reconciliation {
    fn from(report: finance::Reconciliation) -> Self {
        Reconciliation {
            restaurants: report.restaurants.iter().map(Into::into).collect(),
            totals: (&report.totals).into(),
            checks: report
                .checks
                .iter()
                .map(|c| Check {
                    column: c.column.as_str().into(),
                    ledger: money(c.ledger),
                    source: money(c.source),
                    holds: c.holds,
                })
                .collect(),
            balanced: report.balanced,
            month: report.month,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/finance/reconciliation", tag = "finance", params(MonthQuery),
    responses((status = 200, body = Reconciliation, description = "JSON, or CSV with Accept: text/csv"),
              (status = 400, body = crate::web::error::Problem)))]
pub async fn reconciliation(
    State(state): State<Cantine>,
    ApiQuery(query): ApiQuery<MonthQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let style = CsvStyle::from_param(query.format.as_deref())?;
    let month = Month::parse(&query.month)?;
    let report = finance::reconciliation(&state, &month).await?;
    if wants_csv(&headers) {
        return reconciliation_csv(style, &report);
    }
    Ok(Json(Reconciliation::from(report)).into_response())
}
