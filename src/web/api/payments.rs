//! The cart, payments with the provider's signed notifications, and invoices: thin handlers
//! over `app::payments` and `app::queries`, and the JSON shapes they answer.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::money::money;
use crate::app::payments::{self as use_case};
use crate::app::queries;
use crate::app::Cantine;
use crate::domain::invoice::InvoiceIssued;
use crate::web::error::ApiResult;
use crate::web::extract::{request_id_of, ApiJson, ApiPath, Caller};

#[derive(Serialize, ToSchema)]
pub struct CartItem {
    pub id: Uuid,
    pub number: String,
    pub child: String,
    pub establishment: String,
    pub total: String,
    pub pay_before: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Cart {
    pub reservations: Vec<CartItem>,
    pub total: String,
    /// The family's credit (cancelled paid days), spent first by the next payment.
    pub credit: String,
    /// What the payment provider will be asked for: the total minus the credit.
    pub to_pay: String,
}

#[utoipa::path(get, path = "/api/v1/cart", tag = "payments", responses((status = 200, body = Cart)))]
pub async fn cart(State(state): State<Cantine>, caller: Caller) -> ApiResult<Json<Cart>> {
    let cart = queries::cart::cart(&state, &caller).await?;
    Ok(Json(Cart {
        reservations: cart
            .reservations
            .into_iter()
            .map(|r| CartItem {
                id: r.id,
                number: r.number.to_string(),
                child: r.child,
                establishment: r.establishment,
                total: money(r.total),
                pay_before: r.pay_before,
            })
            .collect(),
        total: money(cart.total),
        credit: money(cart.credit),
        to_pay: money(cart.to_pay),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    /// Reservations awaiting payment (prepaid).
    #[serde(default)]
    pub reservation_ids: Vec<Uuid>,
    /// Invoices of billed-later months: what is left to pay on each.
    #[serde(default)]
    pub invoice_ids: Vec<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct PaymentStarted {
    pub id: Uuid,
    /// What the provider is asked for: the reservations' total minus the credit used.
    pub amount: String,
    pub credit_used: String,
    /// `pending`; `succeeded` at once when the credit pays everything.
    pub status: String,
    pub redirect_url: String,
}

#[utoipa::path(post, path = "/api/v1/payments", tag = "payments", request_body = NewPayment,
    responses((status = 201, body = PaymentStarted), (status = 404, body = crate::web::error::Problem),
              (status = 409, body = crate::web::error::Problem), (status = 422, body = crate::web::error::Problem)))]
pub async fn create(
    State(state): State<Cantine>,
    caller: Caller,
    ApiJson(body): ApiJson<NewPayment>,
) -> ApiResult<(StatusCode, Json<PaymentStarted>)> {
    let started =
        use_case::start_with_invoices(&state, &caller, &body.reservation_ids, &body.invoice_ids)
            .await?;
    Ok((
        StatusCode::CREATED,
        Json(PaymentStarted {
            id: started.id,
            amount: money(started.amount),
            credit_used: money(started.credit_used),
            status: started.status.as_str().to_string(),
            redirect_url: started.redirect_url,
        }),
    ))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notification {
    /// The payment notified: must be the `{id}` of the path it is posted to.
    pub payment_id: Uuid,
    /// `succeeded` or `failed`
    pub status: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub provider_ref: String,
}

#[derive(Serialize, ToSchema)]
pub struct PaymentState {
    pub id: Uuid,
    pub status: String,
    pub amount: String,
    pub credit_used: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invoice_numbers: Vec<String>,
    /// Reservations this payment could not pay, whose money goes back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<RefundView>,
}

#[derive(Serialize, ToSchema)]
pub struct RefundView {
    pub reservation_id: Uuid,
    /// `places_gone`, `already_cancelled`, `already_paid`, …
    pub reason: String,
}

pub use crate::app::payment_provider::sign;

/// The payment provider's notification. Authenticated by its signature, not by a session.
#[utoipa::path(post, path = "/api/v1/payments/{id}/notify", tag = "payments", request_body = Notification,
    params(("id" = Uuid, Path), ("Cantine-Signature" = String, Header, description = "sha256=<hex HMAC of the raw body>")),
    responses((status = 200, body = PaymentState), (status = 401, body = crate::web::error::Problem),
              (status = 404, body = crate::web::error::Problem), (status = 422, body = crate::web::error::Problem)))]
pub async fn notify(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PaymentState>> {
    let verified = state.payment_provider.verify(&headers, &body);
    let payment = use_case::receive(&state, id, verified, &request_id_of(&headers)).await?;
    Ok(Json(payment.into()))
}

impl From<use_case::PaymentState> for PaymentState {
    fn from(payment: use_case::PaymentState) -> Self {
        PaymentState {
            id: payment.id,
            status: payment.status.as_str().to_string(),
            amount: money(payment.amount),
            credit_used: money(payment.credit_used),
            invoice_numbers: payment.invoice_numbers,
            refunds: payment
                .refunds
                .into_iter()
                .map(|(reservation_id, reason)| RefundView {
                    reservation_id,
                    reason,
                })
                .collect(),
        }
    }
}

/// A payment of the family's, as it stands: after the provider's page, the portal shows it.
#[utoipa::path(get, path = "/api/v1/payments/{id}", tag = "payments", params(("id" = Uuid, Path)),
    responses((status = 200, body = PaymentState), (status = 404, body = crate::web::error::Problem)))]
pub async fn show(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<PaymentState>> {
    Ok(Json(use_case::show(&state, &caller, id).await?.into()))
}

#[derive(Serialize, ToSchema)]
pub struct Invoice {
    pub id: Uuid,
    pub number: String,
    /// `payment` (prepaid, settled) or `monthly` (billed later)
    pub kind: String,
    pub issued_at: DateTime<Utc>,
    pub month: Option<String>,
    pub total: String,
    pub issuer: String,
    pub issuer_address: String,
    /// The family's name as it was when the document was issued.
    pub family_name: String,
    /// The payment that settled it (prepaid invoices), or that the credited days came from.
    pub payment_id: Option<Uuid>,
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<InvoiceLineView>,
    /// What is paid on it (a prepaid invoice: all of it; a credit note: nothing). In the
    /// family's list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid: Option<String>,
    /// What is left to pay on it (`"0.00"` once paid; a credit note owes nothing). In the
    /// family's list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
}

impl Invoice {
    /// The document with what is paid and left on it.
    pub fn settled(issued: InvoiceIssued, settlement: use_case::Settlement) -> Self {
        Invoice {
            paid: Some(money(settlement.paid)),
            due: Some(money(settlement.due)),
            ..Invoice::from(issued)
        }
    }
}

#[derive(Serialize)]
pub struct InvoiceLineView {
    pub reservation_number: String,
    pub child: String,
    pub restaurant: String,
    pub period: String,
    pub days: Vec<NaiveDate>,
    pub quantity: u32,
    pub unit_price: String,
    pub amount: String,
}

impl From<InvoiceIssued> for Invoice {
    fn from(issued: InvoiceIssued) -> Self {
        Invoice {
            id: issued.invoice_id,
            number: issued.number,
            kind: issued.kind.as_str().into(),
            issued_at: issued.issued_at,
            month: issued.month,
            total: money(issued.total),
            issuer: issued.issuer.name,
            issuer_address: issued.issuer.address,
            family_name: issued.family_name,
            payment_id: issued.payment_id,
            lines: issued
                .lines
                .into_iter()
                .map(|l| InvoiceLineView {
                    reservation_number: l.reservation_number,
                    child: l.child,
                    restaurant: l.restaurant,
                    period: l.period,
                    days: l.days,
                    quantity: l.quantity,
                    unit_price: money(l.unit_price),
                    amount: money(l.amount),
                })
                .collect(),
            paid: None,
            due: None,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/invoices", tag = "payments", responses((status = 200, body = Vec<Invoice>)))]
pub async fn invoices(
    State(state): State<Cantine>,
    caller: Caller,
) -> ApiResult<Json<Vec<Invoice>>> {
    let family_id = caller.family()?;
    let invoices = use_case::settlements(&state, family_id).await?;
    Ok(Json(
        invoices
            .into_iter()
            .map(|(issued, settlement)| Invoice::settled(issued, settlement))
            .collect(),
    ))
}
