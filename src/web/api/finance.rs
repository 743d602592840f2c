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

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeskPayment {
    pub family_id: uuid::Uuid,
    /// `cheque`, `cash` or `transfer`
    pub method: String,
    /// In euros: `"9.94"`.
    #[schema(value_type = String)]
    pub amount: rust_decimal::Decimal,
    /// Monthly invoices it pays, in this order; what is left over is kept as credit.
    #[serde(default)]
    pub invoice_ids: Vec<uuid::Uuid>,
    /// A cheque's number and bank, a transfer's reference (optional for cash).
    #[serde(default)]
    pub reference: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DeskReceipt {
    pub id: uuid::Uuid,
    /// `RC-2027-000001`: gapless per organisation and year.
    pub receipt_number: String,
    pub amount: String,
    /// What it paid beyond the invoices, kept as the family's credit.
    pub credit_kept: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// Records a payment received at the finance desk (cheque, cash, bank transfer) against a
/// family's invoices, with a receipt number; the staff member is the event's actor.
#[utoipa::path(post, path = "/api/v1/finance/payments", tag = "finance", request_body = NewDeskPayment,
    responses((status = 201, body = DeskReceipt), (status = 404, body = crate::web::error::Problem),
              (status = 409, body = crate::web::error::Problem), (status = 422, body = crate::web::error::Problem)))]
pub async fn record_payment(
    State(state): State<Cantine>,
    caller: crate::web::extract::Caller,
    crate::web::extract::ApiJson(body): crate::web::extract::ApiJson<NewDeskPayment>,
) -> ApiResult<(axum::http::StatusCode, Json<DeskReceipt>)> {
    let receipt = crate::app::desk_payments::record(
        &state,
        &caller,
        crate::app::desk_payments::DeskPayment {
            family_id: body.family_id,
            method: &body.method,
            amount: body.amount,
            invoice_ids: &body.invoice_ids,
            reference: &body.reference,
        },
    )
    .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(DeskReceipt {
            id: receipt.id,
            receipt_number: receipt.receipt_number,
            amount: money(receipt.amount),
            credit_kept: money(receipt.credit_kept),
            recorded_at: receipt.recorded_at,
        }),
    ))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reversal {
    /// Why the entry was a mistake.
    pub reason: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Reversed {
    pub id: uuid::Uuid,
    pub receipt_number: String,
    pub reversed_at: chrono::DateTime<chrono::Utc>,
}

/// Reverses a desk payment entered by mistake: never deleted, an event says it no longer
/// counts; its invoices are due again.
#[utoipa::path(post, path = "/api/v1/finance/payments/{id}/reversal", tag = "finance", request_body = Reversal,
    params(("id" = uuid::Uuid, Path, description = "desk payment id")),
    responses((status = 200, body = Reversed), (status = 404, body = crate::web::error::Problem),
              (status = 409, body = crate::web::error::Problem), (status = 422, body = crate::web::error::Problem)))]
pub async fn reverse_payment(
    State(state): State<Cantine>,
    caller: crate::web::extract::Caller,
    crate::web::extract::ApiPath(id): crate::web::extract::ApiPath<uuid::Uuid>,
    crate::web::extract::ApiJson(body): crate::web::extract::ApiJson<Reversal>,
) -> ApiResult<Json<Reversed>> {
    let (receipt_number, reversed_at) =
        crate::app::desk_payments::reverse(&state, &caller, id, &body.reason).await?;
    Ok(Json(Reversed {
        id,
        receipt_number,
        reversed_at,
    }))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct UnpaidInvoiceView {
    pub id: uuid::Uuid,
    pub number: String,
    pub month: Option<String>,
    pub issued_at: chrono::DateTime<chrono::Utc>,
    /// Days since it was issued.
    pub age_days: i64,
    pub total: String,
    pub paid: String,
    pub due: String,
    /// Its SEPA debit was rejected by the family's bank (then it is due again).
    pub sepa_rejection: Option<SepaRejectionView>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SepaRejectionView {
    /// The R-transaction's reason code: `AM04`…
    pub code: String,
    pub reason: String,
    pub rejected_at: chrono::DateTime<chrono::Utc>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DebtorView {
    pub family_id: uuid::Uuid,
    pub family_name: String,
    /// What the family owes on its monthly invoices.
    pub due: String,
    /// The age of its oldest unpaid invoice, in days.
    pub age_days: i64,
    pub invoices: Vec<UnpaidInvoiceView>,
}

/// The families that owe on monthly invoices, with each invoice's age and what is left on it;
/// `Accept: text/csv` gives one line per invoice.
#[utoipa::path(get, path = "/api/v1/finance/debtors", tag = "finance",
    responses((status = 200, body = Vec<DebtorView>, description = "JSON, or CSV with Accept: text/csv")))]
pub async fn debtors(State(state): State<Cantine>, headers: HeaderMap) -> ApiResult<Response> {
    let debtors = crate::app::queries::debtors::debtors(&state, None).await?;
    if wants_csv(&headers) {
        return crate::web::csv_response::debtors_csv(state.clock.paris_today(), &debtors);
    }
    Ok(Json(
        debtors
            .into_iter()
            .map(|d| DebtorView {
                family_id: d.family_id,
                family_name: d.family_name,
                due: money(d.due),
                age_days: d.age_days,
                invoices: d
                    .invoices
                    .into_iter()
                    .map(|i| UnpaidInvoiceView {
                        id: i.invoice_id,
                        number: i.number,
                        month: i.month,
                        issued_at: i.issued_at,
                        age_days: i.age_days,
                        total: money(i.total),
                        paid: money(i.paid),
                        due: money(i.due),
                        sepa_rejection: i.sepa_rejection.map(|r| SepaRejectionView {
                            code: r.code,
                            reason: r.reason.to_string(),
                            rejected_at: r.rejected_at,
                        }),
                    })
                    .collect(),
            })
            .collect::<Vec<_>>(),
    )
    .into_response())
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRefund {
    pub family_id: uuid::Uuid,
    /// In euros: `"5.06"`; at most the family's credit.
    #[schema(value_type = String)]
    pub amount: rust_decimal::Decimal,
    /// The bank transfer's reference.
    pub reference: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RefundView {
    pub id: uuid::Uuid,
    pub family_id: uuid::Uuid,
    pub amount: String,
    pub reference: String,
    /// The family's credit left after it.
    pub credit_left: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// Pays a family's credit (avoirs) back by bank transfer: a `CreditRefunded` event with the
/// staff actor, shown by the ledger, the family's file and the month's refunds export. 422
/// `invalid_amount` (zero, negative), `amount_exceeds_credit`, `reference_required`; 404 for
/// an unknown family.
#[utoipa::path(post, path = "/api/v1/finance/refunds", tag = "finance", request_body = NewRefund,
    responses((status = 201, body = RefundView), (status = 404, body = crate::web::error::Problem),
              (status = 422, body = crate::web::error::Problem)))]
pub async fn refund(
    State(state): State<Cantine>,
    caller: crate::web::extract::Caller,
    crate::web::extract::ApiJson(body): crate::web::extract::ApiJson<NewRefund>,
) -> ApiResult<(axum::http::StatusCode, Json<RefundView>)> {
    let refund = crate::app::refunds::refund_credit(
        &state,
        &caller,
        body.family_id,
        body.amount,
        &body.reference,
    )
    .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(RefundView {
            id: refund.id,
            family_id: refund.family_id,
            amount: money(refund.amount),
            reference: refund.reference,
            credit_left: money(refund.credit_left),
            recorded_at: refund.recorded_at,
        }),
    ))
}
