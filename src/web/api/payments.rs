//! The cart, payments with the provider's signed notifications, and invoices.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::ToSchema;
use uuid::Uuid;

use super::money::money;
use crate::app::invoicing;
use crate::app::payment_provider::{Checkout, ProviderNotification, Rejected};
use crate::app::Cantine;
use crate::db;
use crate::db::payments::StartOutcome;
use crate::domain::invoice::{InvoiceDraft, InvoiceIssued, InvoiceKind};
use crate::domain::payment::{Decision, Payable, PaymentStatus};
use crate::domain::reservation::{format_number, Actor, ErrorKind, ReservationCommand};
use crate::store::commands::{CommandError, CommandMeta};
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{request_id_of, ApiForm, ApiJson, ApiPath, Caller};

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
    let family_id = caller.family()?;
    state.fresh(crate::projections::reservations::NAME).await;
    let rows: Vec<(Uuid, i64, String, String, Decimal, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, number, child_first_name || ' ' || child_last_name, restaurant_name, total, pay_before
           FROM reservation_view
          WHERE family_id = $1 AND status = 'awaiting_payment' AND pay_before > $2
          ORDER BY pay_before, number",
    )
    .bind(family_id)
    .bind(state.clock.now())
    .fetch_all(&state.pool)
    .await?;
    let total: Decimal = rows.iter().map(|r| r.4).sum();
    let credit = db::payments::available_credit(&state.pool, family_id)
        .await?
        .max(Decimal::ZERO);
    Ok(Json(Cart {
        reservations: rows
            .into_iter()
            .map(
                |(id, number, child, establishment, total, pay_before)| CartItem {
                    id,
                    number: format_number(number as u64),
                    child,
                    establishment,
                    total: money(total),
                    pay_before,
                },
            )
            .collect(),
        total: money(total),
        credit: money(credit),
        to_pay: money((total - credit).max(Decimal::ZERO)),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    pub reservation_ids: Vec<Uuid>,
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
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewPayment>,
) -> ApiResult<(StatusCode, Json<PaymentStarted>)> {
    let family_id = caller.family()?;
    if body.reservation_ids.is_empty() {
        return Err(ApiError::rule(
            "no_reservations",
            "choose at least one reservation to pay",
        ));
    }
    let unique: BTreeSet<Uuid> = body.reservation_ids.iter().copied().collect();
    if unique.len() != body.reservation_ids.len() {
        return Err(ApiError::rule(
            "duplicate_reservations",
            "a reservation is listed twice",
        ));
    }
    let now = state.clock.now();
    let mut payables = Vec::with_capacity(body.reservation_ids.len());
    for id in &body.reservation_ids {
        let reservation = state.commands.load(*id).await?;
        let total = reservation.payable_amount(Actor::Family(family_id), now)?;
        let requested = reservation
            .requested
            .as_ref()
            .expect("payable, so requested");
        payables.push(Payable {
            reservation_id: *id,
            reservation_number: format_number(requested.number),
            restaurant: requested.restaurant.name.clone(),
            total,
        });
    }
    let started = match db::payments::start(
        &state.pool,
        state.organisation.id,
        family_id,
        &payables,
        now,
        &caller.meta().to_json(),
    )
    .await?
    {
        StartOutcome::Started(started) => started,
        StartOutcome::AlreadyPending(pending) => {
            return Err(ApiError::conflict(
                "payment_pending",
                format!("already in a payment being processed: {pending:?}"),
            ))
        }
    };
    let id = started.payment_id;
    let mut status = PaymentStatus::Pending.as_str().to_string();
    if started.amount.is_zero() {
        // The credit pays it all: there is nothing to ask the provider.
        let settled = settle(
            &state,
            id,
            ProviderNotification {
                status: "succeeded".into(),
                amount: Decimal::ZERO,
                provider_ref: "credit".into(),
            },
            &request_id_of(&headers),
        )
        .await?;
        status = settled.status;
    }
    Ok((
        StatusCode::CREATED,
        Json(PaymentStarted {
            id,
            amount: money(started.amount),
            credit_used: money(started.credit_used),
            status,
            redirect_url: state.payment_provider.checkout_url(&Checkout {
                payment_id: id,
                amount: started.amount,
                return_url: format!("{}/api/v1/payments/{id}", state.public_url),
                notify_url: format!("{}/api/v1/payments/{id}/notify", state.public_url),
            }),
        }),
    ))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Notification {
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
    let notification = verified(&state, id, &headers, &body)?;
    settle(&state, id, notification, &request_id_of(&headers))
        .await
        .map(Json)
}

/// The provider's notification, if it is the provider's.
fn verified(
    state: &Cantine,
    id: Uuid,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<ProviderNotification> {
    state
        .payment_provider
        .verify(headers, body)
        .map_err(|rejected| match rejected {
            Rejected::Signature => {
                tracing::warn!(payment = %id, provider = state.payment_provider.name(),
                    "payment notification with a wrong signature refused");
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_signature",
                    "the notification's signature is wrong",
                )
            }
            Rejected::Malformed(detail) => ApiError::bad_request("malformed_body", detail),
        })
}

/// Applies a notification; repeating it changes nothing more.
pub async fn settle(
    state: &Cantine,
    id: Uuid,
    notification: ProviderNotification,
    request_id: &str,
) -> ApiResult<PaymentState> {
    let outcome = match notification.status.as_str() {
        "succeeded" => PaymentStatus::Succeeded,
        "failed" => PaymentStatus::Failed,
        other => {
            return Err(ApiError::bad_request(
                "malformed_body",
                format!("unknown status {other}"),
            ))
        }
    };
    let payment = db::payments::payment(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    if outcome == PaymentStatus::Succeeded && notification.amount != payment.amount {
        tracing::warn!(payment = %id, notified = %notification.amount, expected = %payment.amount,
            "payment notification refused: amount differs");
        return Err(ApiError::rule(
            "amount_mismatch",
            format!(
                "the notified amount {} differs from the payment's {}",
                notification.amount, payment.amount
            ),
        ));
    }
    let meta = CommandMeta {
        actor_id: None,
        actor_role: "payment_provider".into(),
        request_id: request_id.to_string(),
    };
    let (payment, decision) = db::payments::record_outcome(
        &state.pool,
        id,
        outcome,
        &notification.provider_ref,
        state.clock.now(),
        &meta.to_json(),
    )
    .await?
    .ok_or_else(|| ApiError::not_found("payment"))?;
    if decision == Decision::IgnoreLateFailure {
        tracing::warn!(payment = %id, provider_ref = %notification.provider_ref,
            "a failure notified after the payment succeeded is ignored: the money is in");
    }
    if payment.status() == PaymentStatus::Succeeded {
        // Done on every succeeded notification, and idempotent: a retry after a crash half-way
        // finishes the work instead of skipping it.
        complete_success(state, &payment, &meta).await?;
    }
    payment_state(state, &payment).await
}

/// Pays each reservation of a succeeded payment, records a refund for those that can no longer
/// be paid, and issues the invoice of the others.
async fn complete_success(
    state: &Cantine,
    payment: &db::payments::PaymentRow,
    meta: &CommandMeta,
) -> ApiResult<()> {
    let allocations = db::payments::allocations(&state.pool, payment.id).await?;
    let mut lines = Vec::new();
    for allocation in &allocations {
        let command = ReservationCommand::Pay {
            actor: Actor::System,
            payment_id: payment.id,
            amount: allocation.total,
        };
        // Paying first and looking only on a refusal: a retried notification finds the
        // reservation already paid by this payment, and every first one saves a read.
        let paid = match state
            .commands
            .execute(allocation.reservation_id, command, meta)
            .await
        {
            Ok(reservation) => reservation,
            Err(CommandError::Refused(refusal)) if refusal.kind() != ErrorKind::Internal => {
                let current = state.commands.load(allocation.reservation_id).await?;
                if current.paid_by == Some(payment.id) {
                    current
                } else {
                    db::payments::record_refund(
                        &state.pool,
                        payment.id,
                        allocation,
                        refusal.code(),
                        state.clock.now(),
                        &meta.to_json(),
                    )
                    .await?;
                    continue;
                }
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(requested) = &paid.requested {
            let days: Vec<(NaiveDate, Decimal)> =
                paid.active_days().map(|d| (d.date, d.unit_price)).collect();
            lines.extend(invoicing::reservation_lines(
                allocation.reservation_id,
                requested,
                &days,
            ));
        }
    }
    if !lines.is_empty() {
        let draft = InvoiceDraft {
            invoice_id: Uuid::now_v7(),
            issuer: invoicing::issuer(&state.organisation),
            family_id: payment.family_id,
            family_name: invoicing::family_name(&state.pool, payment.family_id).await?,
            kind: InvoiceKind::Payment,
            payment_id: Some(payment.id),
            month: None,
            lines,
        };
        invoicing::issue_once(
            &state.pool,
            state.clock.as_ref(),
            &invoicing::payment_key(payment.id),
            draft,
            &meta.request_id,
        )
        .await?;
    }
    Ok(())
}

async fn payment_state(
    state: &Cantine,
    payment: &db::payments::PaymentRow,
) -> ApiResult<PaymentState> {
    let issued: Vec<(String,)> = sqlx::query_as(
        "SELECT e.payload->>'number' FROM invoice_keys k
           JOIN events e ON e.aggregate_type = 'Invoice' AND e.aggregate_id = k.invoice_id::text
          WHERE k.organisation_id = $1 AND k.key = $2",
    )
    .bind(state.organisation.id)
    .bind(invoicing::payment_key(payment.id))
    .fetch_all(&state.pool)
    .await?;
    let refunds = db::payments::refunds(&state.pool, payment.id)
        .await?
        .into_iter()
        .map(|(reservation_id, reason)| RefundView {
            reservation_id,
            reason,
        })
        .collect();
    Ok(PaymentState {
        id: payment.id,
        status: payment.status.clone(),
        amount: money(payment.amount),
        credit_used: money(payment.credit_used),
        invoice_numbers: issued.into_iter().map(|r| r.0).collect(),
        refunds,
    })
}

/// A payment of the family's, as it stands: after the provider's page, the portal shows it.
#[utoipa::path(get, path = "/api/v1/payments/{id}", tag = "payments", params(("id" = Uuid, Path)),
    responses((status = 200, body = PaymentState), (status = 404, body = crate::web::error::Problem)))]
pub async fn show(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<PaymentState>> {
    let family_id = caller.family()?;
    let payment = db::payments::payment(&state.pool, id)
        .await?
        .filter(|p| p.family_id == family_id)
        .ok_or_else(|| ApiError::not_found("payment"))?;
    payment_state(&state, &payment).await.map(Json)
}

/// The built-in payment simulator's page, standing in for a provider's card form.
pub async fn checkout_page(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Html<String>> {
    if state.simulator.is_none() {
        return Err(ApiError::not_found("payment page"));
    }
    let payment = db::payments::payment(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    Ok(Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Paiement simulé</title></head>
<body><main><h1>Paiement simulé</h1><p>Montant : {} €</p><p>État : {}</p>
<form method=\"post\"><button name=\"outcome\" value=\"succeeded\">Payer</button>
<button name=\"outcome\" value=\"failed\">Refuser le paiement</button></form></main></body></html>",
        money(payment.amount).replace('.', ","),
        payment.status
    )))
}

#[derive(Deserialize)]
pub struct CheckoutChoice {
    pub outcome: String,
}

/// The simulator signs its notification and hands it in through the same door as a real
/// provider's: verified by the port, then settled.
pub async fn checkout_submit(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiForm(choice): ApiForm<CheckoutChoice>,
) -> ApiResult<impl IntoResponse> {
    let Some(simulator) = state.simulator.clone() else {
        return Err(ApiError::not_found("payment page"));
    };
    let payment = db::payments::payment(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    let (body, signature) = simulator.notification(&ProviderNotification {
        status: choice.outcome,
        amount: payment.amount,
        provider_ref: format!("simulator-{}", Uuid::new_v4()),
    });
    let mut signed = HeaderMap::new();
    signed.insert(
        crate::app::payment_provider::SIGNATURE_HEADER,
        signature.parse().map_err(ApiError::internal)?,
    );
    let notification = verified(&state, id, &signed, &body)?;
    let result = settle(&state, id, notification, &request_id_of(&headers)).await?;
    Ok(Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Paiement</title></head>
<body><main><h1>{}</h1><p><a href=\"/paiements/{id}\">Retour au portail famille</a></p></main></body></html>",
        if result.status == "succeeded" { "Paiement accepté" } else { "Paiement refusé" }
    )))
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
        }
    }
}

#[utoipa::path(get, path = "/api/v1/invoices", tag = "payments", responses((status = 200, body = Vec<Invoice>)))]
pub async fn invoices(
    State(state): State<Cantine>,
    caller: Caller,
) -> ApiResult<Json<Vec<Invoice>>> {
    let family_id = caller.family()?;
    state.fresh(crate::projections::invoices::NAME).await;
    let rows: Vec<(sqlx::types::Json<InvoiceIssued>,)> = sqlx::query_as(
        "SELECT document FROM invoice_view WHERE family_id = $1 ORDER BY issued_at DESC, number DESC",
    )
    .bind(family_id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(rows.into_iter().map(|(doc,)| doc.0.into()).collect()))
}
