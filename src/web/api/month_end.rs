//! Finance's month end: the month's invoices, credit notes, payments and refunds as CSV, and
//! the reconciliation report per restaurant, checked against the documents themselves.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::Paris;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::money::money;
use crate::app::Cantine;
use crate::domain::invoice::{InvoiceIssued, InvoiceKind};
use crate::domain::period::{month_bounds, paris_to_utc};
use crate::projections;
use crate::web::csv_response::{styled_csv_response, wants_csv, CsvStyle};
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiPath, ApiQuery};

#[derive(Deserialize, IntoParams)]
pub struct MonthQuery {
    /// `YYYY-MM`, a month of Paris time.
    pub month: String,
    /// `fr` for `;` and decimal commas (French spreadsheets); `standard` (default) otherwise.
    pub format: Option<String>,
}

/// The month's instants: [first midnight, next month's first midnight) in Paris.
pub fn month_range(month: &str) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let (first, last) = month_bounds(month).ok_or_else(|| {
        ApiError::bad_request("invalid_parameter", "month must be written YYYY-MM")
    })?;
    let midnight = |d: chrono::NaiveDate| paris_to_utc(d.and_hms_opt(0, 0, 0).expect("midnight"));
    Ok((midnight(first), midnight(last + Duration::days(1))))
}

fn paris_date(at: DateTime<Utc>) -> String {
    at.with_timezone(&Paris).date_naive().to_string()
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
    let range = month_range(&query.month)?;
    let month = &query.month;
    match document.as_str() {
        "invoices" => documents(&state, style, range, month, false).await,
        "credit-notes" => documents(&state, style, range, month, true).await,
        "payments" => payments(&state, style, range, month).await,
        "refunds" => refunds(&state, style, range, month).await,
        _ => Err(ApiError::not_found("export")),
    }
}

async fn documents(
    state: &Cantine,
    style: CsvStyle,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    month: &str,
    credit_notes: bool,
) -> ApiResult<Response> {
    state.fresh(projections::invoices::NAME).await;
    let rows: Vec<(sqlx::types::Json<InvoiceIssued>,)> = sqlx::query_as(
        "SELECT document FROM invoice_view
          WHERE organisation_id = $1 AND issued_at >= $2 AND issued_at < $3
            AND (kind = 'credit_note') = $4
          ORDER BY number",
    )
    .bind(state.organisation.id)
    .bind(start)
    .bind(end)
    .bind(credit_notes)
    .fetch_all(&state.pool)
    .await?;
    let records = rows
        .into_iter()
        .map(|(doc,)| {
            let i = doc.0;
            let mut restaurants: Vec<&str> =
                i.lines.iter().map(|l| l.restaurant.as_str()).collect();
            restaurants.dedup();
            let mut reservations: Vec<&str> = i
                .lines
                .iter()
                .map(|l| l.reservation_number.as_str())
                .collect();
            reservations.dedup();
            vec![
                i.number.clone(),
                paris_date(i.issued_at),
                i.family_name.clone(),
                i.family_id.to_string(),
                i.kind.as_str().to_string(),
                i.month.clone().unwrap_or_default(),
                restaurants.join(" | "),
                reservations.join(" | "),
                i.lines.iter().map(|l| l.quantity).sum::<u32>().to_string(),
                style.money(i.total),
            ]
        })
        .collect();
    let name = if credit_notes { "avoirs" } else { "factures" };
    styled_csv_response(
        style,
        &format!("{name}-{month}.csv"),
        &[
            "number",
            "issued_on",
            "family",
            "family_id",
            "kind",
            "month",
            "restaurants",
            "reservations",
            "meals",
            "total",
        ],
        records,
    )
}

async fn payments(
    state: &Cantine,
    style: CsvStyle,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    month: &str,
) -> ApiResult<Response> {
    type Row = (
        Uuid,
        DateTime<Utc>,
        String,
        Uuid,
        Option<String>,
        i64,
        Decimal,
        Decimal,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT p.id, p.settled_at, f.name, f.id, p.provider_ref, cardinality(p.reservation_ids)::bigint,
                p.credit_used, p.amount
           FROM payments p JOIN families f ON f.id = p.family_id
          WHERE f.organisation_id = $1 AND p.status = 'succeeded'
            AND p.settled_at >= $2 AND p.settled_at < $3
          ORDER BY p.settled_at, p.id",
    )
    .bind(state.organisation.id)
    .bind(start)
    .bind(end)
    .fetch_all(&state.pool)
    .await?;
    let records = rows
        .into_iter()
        .map(
            |(id, at, family, family_id, provider_ref, count, credit, amount)| {
                vec![
                    id.to_string(),
                    paris_date(at),
                    family,
                    family_id.to_string(),
                    provider_ref.unwrap_or_default(),
                    count.to_string(),
                    style.money(credit),
                    style.money(amount),
                ]
            },
        )
        .collect();
    styled_csv_response(
        style,
        &format!("paiements-{month}.csv"),
        &[
            "payment_id",
            "paid_on",
            "family",
            "family_id",
            "provider_ref",
            "reservations",
            "credit_used",
            "amount",
        ],
        records,
    )
}

async fn refunds(
    state: &Cantine,
    style: CsvStyle,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    month: &str,
) -> ApiResult<Response> {
    type Row = (Uuid, Uuid, DateTime<Utc>, String, Uuid, String, Decimal);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT r.payment_id, r.reservation_id, r.recorded_at, f.name, f.id, r.reason, r.amount
           FROM refunds r JOIN families f ON f.id = r.family_id
          WHERE f.organisation_id = $1 AND r.recorded_at >= $2 AND r.recorded_at < $3
          ORDER BY r.recorded_at",
    )
    .bind(state.organisation.id)
    .bind(start)
    .bind(end)
    .fetch_all(&state.pool)
    .await?;
    let records = rows
        .into_iter()
        .map(
            |(payment, reservation, at, family, family_id, reason, amount)| {
                vec![
                    payment.to_string(),
                    reservation.to_string(),
                    paris_date(at),
                    family,
                    family_id.to_string(),
                    reason,
                    style.money(amount),
                ]
            },
        )
        .collect();
    styled_csv_response(
        style,
        &format!("remboursements-{month}.csv"),
        &[
            "payment_id",
            "reservation_id",
            "recorded_on",
            "family",
            "family_id",
            "reason",
            "amount",
        ],
        records,
    )
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

#[derive(Default, Clone, Copy)]
struct Sums {
    invoiced: Decimal,
    credited: Decimal,
    paid: Decimal,
    refunded: Decimal,
}

impl Sums {
    fn outstanding(&self) -> Decimal {
        self.invoiced - self.credited - self.paid + self.refunded
    }

    fn row(&self, restaurant: String) -> ReconciliationRow {
        ReconciliationRow {
            restaurant,
            invoiced: money(self.invoiced),
            credited: money(self.credited),
            paid: money(self.paid),
            refunded: money(self.refunded),
            outstanding: money(self.outstanding()),
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
    let report = reconciliation_report(&state, &query.month).await?;
    if wants_csv(&headers) {
        let records = report
            .restaurants
            .iter()
            .chain(std::iter::once(&report.totals))
            .map(|r| {
                let amount = |text: &str| match style {
                    CsvStyle::French => text.replace('.', ","),
                    CsvStyle::Standard => text.to_string(),
                };
                vec![
                    r.restaurant.clone(),
                    amount(&r.invoiced),
                    amount(&r.credited),
                    amount(&r.paid),
                    amount(&r.refunded),
                    amount(&r.outstanding),
                ]
            })
            .collect();
        return styled_csv_response(
            style,
            &format!("rapprochement-{}.csv", query.month),
            &[
                "restaurant",
                "invoiced",
                "credited",
                "paid",
                "refunded",
                "outstanding",
            ],
            records,
        );
    }
    Ok(Json(report).into_response())
}

/// The month's reconciliation report (`YYYY-MM`, Paris time): what the API's route and the back
/// office's finance page both show.
pub async fn reconciliation_report(state: &Cantine, month: &str) -> ApiResult<Reconciliation> {
    let (start, end) = month_range(month)?;
    state.fresh(projections::ledger::NAME).await;
    state.fresh(projections::invoices::NAME).await;
    let rows: Vec<(String, Decimal, Decimal, Decimal, Decimal, Decimal)> = sqlx::query_as(
        "SELECT restaurant,
                COALESCE(sum(-amount) FILTER (WHERE entry = 'invoice'), 0),
                COALESCE(sum(amount) FILTER (WHERE entry = 'credit_note'), 0),
                COALESCE(sum(amount) FILTER (WHERE entry = 'payment'), 0),
                COALESCE(sum(-amount) FILTER (WHERE entry = 'refund'), 0),
                -sum(amount)
           FROM ledger_view
          WHERE organisation_id = $1 AND occurred_at >= $2 AND occurred_at < $3
          GROUP BY restaurant ORDER BY restaurant",
    )
    .bind(state.organisation.id)
    .bind(start)
    .bind(end)
    .fetch_all(&state.pool)
    .await?;
    let mut totals = Sums::default();
    let mut rows_balance = true;
    let restaurants: Vec<ReconciliationRow> = rows
        .into_iter()
        .map(|(restaurant, invoiced, credited, paid, refunded, net)| {
            let sums = Sums {
                invoiced,
                credited,
                paid,
                refunded,
            };
            rows_balance &= sums.outstanding() == net;
            totals.invoiced += invoiced;
            totals.credited += credited;
            totals.paid += paid;
            totals.refunded += refunded;
            sums.row(restaurant)
        })
        .collect();
    let source = source_sums(state, start, end).await?;
    let check = |column: &str, ledger: Decimal, source: Decimal| Check {
        column: column.into(),
        ledger: money(ledger),
        source: money(source),
        holds: ledger == source,
    };
    let checks = vec![
        check("invoiced", totals.invoiced, source.invoiced),
        check("credited", totals.credited, source.credited),
        check("paid", totals.paid, source.paid),
        check("refunded", totals.refunded, source.refunded),
    ];
    let balanced = rows_balance && checks.iter().all(|c| c.holds);
    if !balanced {
        tracing::error!(month = %month, "the month's reconciliation does not balance");
    }
    Ok(Reconciliation {
        month: month.to_string(),
        restaurants,
        totals: totals.row("TOTAL".into()),
        checks,
        balanced,
    })
}

/// The month's figures straight from the documents, not from the ledger.
async fn source_sums(state: &Cantine, start: DateTime<Utc>, end: DateTime<Utc>) -> ApiResult<Sums> {
    let (invoiced, credited): (Decimal, Decimal) = sqlx::query_as(
        "SELECT COALESCE(sum(total) FILTER (WHERE kind <> $4), 0),
                COALESCE(sum(total) FILTER (WHERE kind = $4), 0)
           FROM invoice_view WHERE organisation_id = $1 AND issued_at >= $2 AND issued_at < $3",
    )
    .bind(state.organisation.id)
    .bind(start)
    .bind(end)
    .bind(InvoiceKind::CreditNote.as_str())
    .fetch_one(&state.pool)
    .await?;
    let (paid,): (Decimal,) = sqlx::query_as(
        "SELECT COALESCE(sum(p.amount), 0) FROM payments p JOIN families f ON f.id = p.family_id
          WHERE f.organisation_id = $1 AND p.status = 'succeeded'
            AND p.settled_at >= $2 AND p.settled_at < $3",
    )
    .bind(state.organisation.id)
    .bind(start)
    .bind(end)
    .fetch_one(&state.pool)
    .await?;
    let (refunded,): (Decimal,) = sqlx::query_as(
        "SELECT COALESCE(sum(r.amount), 0) FROM refunds r JOIN families f ON f.id = r.family_id
          WHERE f.organisation_id = $1 AND r.recorded_at >= $2 AND r.recorded_at < $3",
    )
    .bind(state.organisation.id)
    .bind(start)
    .bind(end)
    .fetch_one(&state.pool)
    .await?;
    Ok(Sums {
        invoiced,
        credited,
        paid,
        refunded,
    })
}
