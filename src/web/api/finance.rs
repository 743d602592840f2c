//! What the finance office reads: the invoices issued over a range of days.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Paris;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::kitchen::{range, RangeQuery};
use super::money::money;
use super::payments::Invoice;
use crate::app::Cantine;
use crate::domain::invoice::InvoiceIssued;
use crate::domain::period::paris_to_utc;
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
    let (from, to) = range(&state, &query)?;
    let issued = issued_between(&state, from, to).await?;
    if wants_csv(&headers) {
        let records = issued
            .iter()
            .map(|i| {
                vec![
                    i.number.clone(),
                    i.issued_at.with_timezone(&Paris).date_naive().to_string(),
                    i.family_name.clone(),
                    i.family_id.to_string(),
                    i.kind.as_str().into(),
                    i.month.clone().unwrap_or_default(),
                    i.lines.iter().map(|l| l.quantity).sum::<u32>().to_string(),
                    money(i.total),
                ]
            })
            .collect();
        let name = format!("factures-{from}-{to}.csv");
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

/// The invoices and credit notes issued from `from` to `to` (Paris days), by number.
pub async fn issued_between(
    state: &Cantine,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<InvoiceIssued>> {
    state.fresh(crate::projections::invoices::NAME).await;
    let start = paris_to_utc(from.and_hms_opt(0, 0, 0).expect("midnight"));
    let end = paris_to_utc(
        (to + chrono::Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .expect("midnight"),
    );
    let rows: Vec<(sqlx::types::Json<InvoiceIssued>,)> = sqlx::query_as(
        "SELECT document FROM invoice_view
          WHERE organisation_id = $1 AND issued_at >= $2 AND issued_at < $3 ORDER BY number",
    )
    .bind(state.organisation.id)
    .bind(start)
    .bind(end)
    .fetch_all(&state.pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0 .0).collect())
}

/// A payment as the finance office follows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: Uuid,
    pub family_name: String,
    pub status: String,
    pub amount: Decimal,
    pub credit_used: Decimal,
    pub reservations: i64,
    pub provider_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

/// The payments started in the month (`YYYY-MM`, Paris time) of the organisation, with this
/// status if given (`pending`, `succeeded`, `failed`), the latest first.
pub async fn month_payments(
    state: &Cantine,
    month: &str,
    status: Option<&str>,
) -> ApiResult<Vec<PaymentRow>> {
    let (start, end) = super::month_end::month_range(month)?;
    Ok(sqlx::query_as(
        "SELECT p.id, f.name AS family_name, p.status, p.amount, p.credit_used,
                cardinality(p.reservation_ids)::bigint AS reservations, p.provider_ref,
                p.created_at, p.settled_at
           FROM payments p JOIN families f ON f.id = p.family_id
          WHERE f.organisation_id = $1 AND p.created_at >= $2 AND p.created_at < $3
            AND ($4::text IS NULL OR p.status = $4)
          ORDER BY p.created_at DESC, p.id",
    )
    .bind(state.organisation.id)
    .bind(start)
    .bind(end)
    .bind(status)
    .fetch_all(&state.pool)
    .await?)
}
