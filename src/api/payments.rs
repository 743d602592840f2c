//! The cart, payments with the provider's signed notifications, and invoices.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, Mac};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeSet;
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::{request_id_of, ApiForm, ApiJson, ApiPath, Caller};
use super::money::money;
use crate::app::AppState;
use crate::commands::{CommandError, CommandMeta};
use crate::db;
use crate::domain::invoice::{self, InvoiceDraft, InvoiceIssued, InvoiceKind};
use crate::domain::reservation::{format_number, Actor, ReservationCommand, ReservationError};
use crate::invoicing;

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
}

#[utoipa::path(get, path = "/api/v1/cart", tag = "payments", responses((status = 200, body = Cart)))]
pub async fn cart(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Cart>> {
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
    pub amount: String,
    pub status: &'static str,
    pub redirect_url: String,
}

#[utoipa::path(post, path = "/api/v1/payments", tag = "payments", request_body = NewPayment,
    responses((status = 201, body = PaymentStarted), (status = 404, body = super::error::Problem),
              (status = 409, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
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
    let mut amount = Decimal::ZERO;
    for id in &body.reservation_ids {
        let reservation = state.commands.load(*id).await?;
        amount += reservation.payable_amount(Actor::Family(family_id), now)?;
    }
    let pending = db::payments::pending_for(&state.pool, &body.reservation_ids).await?;
    if !pending.is_empty() {
        return Err(ApiError::conflict(
            "payment_pending",
            format!("already in a payment being processed: {pending:?}"),
        ));
    }
    // Random, not time-ordered: the id is also the key of the payment page.
    let id = Uuid::new_v4();
    db::payments::insert_payment(
        &state.pool,
        id,
        family_id,
        &body.reservation_ids,
        amount,
        now,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(PaymentStarted {
            id,
            amount: money(amount),
            status: "pending",
            redirect_url: format!("{}/api/v1/payments/{id}/checkout", state.public_url),
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invoice_numbers: Vec<String>,
}

pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn signature_valid(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any size");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The payment provider's notification. Authenticated by its signature, not by a session.
#[utoipa::path(post, path = "/api/v1/payments/{id}/notify", tag = "payments", request_body = Notification,
    params(("id" = Uuid, Path), ("Cantine-Signature" = String, Header, description = "sha256=<hex HMAC of the raw body>")),
    responses((status = 200, body = PaymentState), (status = 401, body = super::error::Problem),
              (status = 404, body = super::error::Problem), (status = 422, body = super::error::Problem)))]
pub async fn notify(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<PaymentState>> {
    let signature = headers
        .get("cantine-signature")
        .and_then(|v| v.to_str().ok());
    if !signature_valid(&state.payment_secret, &body, signature) {
        tracing::warn!(payment = %id, "payment notification with a wrong signature refused");
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            "the notification's signature is wrong",
        ));
    }
    let notification: Notification = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("malformed_body", e.to_string()))?;
    let request_id = request_id_of(&headers);
    settle(&state, id, notification, &request_id)
        .await
        .map(Json)
}

/// Applies a notification; repeating it changes nothing more.
pub async fn settle(
    state: &AppState,
    id: Uuid,
    notification: Notification,
    request_id: &str,
) -> ApiResult<PaymentState> {
    let payment = db::payments::payment(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    let outcome = match notification.status.as_str() {
        "succeeded" | "failed" => notification.status.as_str(),
        other => {
            return Err(ApiError::bad_request(
                "malformed_body",
                format!("unknown status {other}"),
            ))
        }
    };
    if outcome == "succeeded" && notification.amount != payment.amount {
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
    let now = state.clock.now();
    db::payments::settle(
        &state.pool,
        id,
        outcome,
        Some(&notification.provider_ref),
        now,
    )
    .await?;
    let current = db::payments::payment(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    if current.status != outcome {
        return Err(ApiError::conflict(
            "payment_already_settled",
            format!("the payment was already settled as {}", current.status),
        ));
    }
    let mut invoice_numbers = Vec::new();
    if outcome == "succeeded" {
        // Done on every succeeded notification, and idempotent: a retry after a crash half-way
        // finishes the work instead of skipping it.
        let meta = CommandMeta {
            actor_id: None,
            actor_role: "payment_provider".into(),
            request_id: request_id.to_string(),
        };
        let mut lines = Vec::new();
        for reservation_id in &payment.reservation_ids {
            let before = state.commands.load(*reservation_id).await?;
            let command = ReservationCommand::Pay {
                actor: crate::domain::reservation::Actor::System,
                payment_id: id,
                amount: before.total,
            };
            let paid = match state
                .commands
                .execute(*reservation_id, command, &meta)
                .await
            {
                Ok(reservation) => reservation,
                Err(CommandError::Refused(ReservationError::AlreadyPaid)) => before,
                Err(CommandError::Refused(refusal)) => {
                    tracing::warn!(payment = %id, reservation = %reservation_id, %refusal,
                        "payment arrived for a reservation that can no longer be paid; refund due");
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(requested) = &paid.requested {
                let days: Vec<(NaiveDate, Decimal)> =
                    paid.active_days().map(|d| (d.date, d.unit_price)).collect();
                lines.extend(invoice::lines_for(
                    *reservation_id,
                    &format_number(requested.number),
                    &format!(
                        "{} {}",
                        requested.child.first_name, requested.child.last_name
                    ),
                    &requested.restaurant.name,
                    &format!("{} {}", requested.period.activity, requested.period.label),
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
                payment_id: Some(id),
                month: None,
                lines,
            };
            invoicing::issue_once(
                &state.pool,
                state.clock.as_ref(),
                &invoicing::payment_key(id),
                draft,
                request_id,
            )
            .await?;
        }
        let issued: Vec<(String,)> = sqlx::query_as(
            "SELECT e.payload->>'number' FROM invoice_keys k
               JOIN events e ON e.aggregate_type = 'Invoice' AND e.aggregate_id = k.invoice_id::text
              WHERE k.organisation_id = $1 AND k.key = $2",
        )
        .bind(state.organisation.id)
        .bind(invoicing::payment_key(id))
        .fetch_all(&state.pool)
        .await?;
        invoice_numbers = issued.into_iter().map(|r| r.0).collect();
    }
    Ok(PaymentState {
        id,
        status: outcome.to_string(),
        invoice_numbers,
    })
}

/// The built-in payment simulator's page, standing in for a provider's card form.
pub async fn checkout_page(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Html<String>> {
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

/// The simulator sends the provider's notification to the service itself, signed.
pub async fn checkout_submit(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiForm(choice): ApiForm<CheckoutChoice>,
) -> ApiResult<impl IntoResponse> {
    let payment = db::payments::payment(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment"))?;
    let notification = Notification {
        status: choice.outcome,
        amount: payment.amount,
        provider_ref: format!("simulator-{}", Uuid::new_v4()),
    };
    let result = settle(&state, id, notification, &request_id_of(&headers)).await?;
    Ok(Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Paiement</title></head>
<body><main><h1>{}</h1></main></body></html>",
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
            kind: match issued.kind {
                InvoiceKind::Payment => "payment".into(),
                InvoiceKind::Monthly => "monthly".into(),
            },
            issued_at: issued.issued_at,
            month: issued.month,
            total: money(issued.total),
            issuer: issued.issuer.name,
            issuer_address: issued.issuer.address,
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
    State(state): State<AppState>,
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
