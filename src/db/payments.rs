//! Payments as read: the row that decides which notification still has an effect, its
//! allocations and refunds, the family's credit, and the cart's reservations. The writes (the
//! row with its `Payment` event) are the event store's: `store::payments`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::payment::{self, Allocation, PaymentEvent, PaymentStatus};
use crate::domain::reservation::{ReservationNumber, ReservationStatus};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: Uuid,
    pub family_id: Uuid,
    pub reservation_ids: Vec<Uuid>,
    pub amount: Decimal,
    pub credit_used: Decimal,
    pub status: String,
    pub provider_ref: Option<String>,
}

impl PaymentRow {
    pub fn status(&self) -> PaymentStatus {
        PaymentStatus::parse(&self.status).unwrap_or(PaymentStatus::Pending)
    }
}

pub(crate) const COLUMNS: &str =
    "id, family_id, reservation_ids, amount, credit_used, status, provider_ref";

pub async fn payment(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM payments WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The allocations of a payment, as started.
pub async fn allocations(pool: &PgPool, id: Uuid) -> anyhow::Result<Vec<Allocation>> {
    let (payload,): (Value,) = sqlx::query_as(
        "SELECT payload FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = 1",
    )
    .bind(payment::AGGREGATE_TYPE)
    .bind(id.to_string())
    .fetch_one(pool)
    .await?;
    match serde_json::from_value(payload)? {
        PaymentEvent::PaymentStarted(started) => Ok(started.allocations),
        other => anyhow::bail!("payment {id} starts with {}", other.event_type()),
    }
}

/// The family's credit that a new payment may spend.
pub async fn available_credit(
    db: impl sqlx::PgExecutor<'_>,
    family_id: Uuid,
) -> sqlx::Result<Decimal> {
    let row: Option<(Decimal,)> =
        sqlx::query_as("SELECT available FROM family_credits WHERE family_id = $1")
            .bind(family_id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|r| r.0).unwrap_or_default())
}

/// The refunds recorded for a payment: reservation and reason.
pub async fn refunds(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as("SELECT reservation_id, reason FROM refunds WHERE payment_id = $1")
        .bind(id)
        .fetch_all(pool)
        .await
}

/// A reservation of the cart: awaiting payment and still in time.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AwaitingPayment {
    pub id: Uuid,
    #[sqlx(try_from = "i64")]
    pub number: ReservationNumber,
    pub child: String,
    pub establishment: String,
    pub total: Decimal,
    pub pay_before: DateTime<Utc>,
}

/// The family's reservations awaiting payment at `now`, the nearest deadline first.
pub async fn awaiting_payment(
    pool: &PgPool,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<AwaitingPayment>> {
    sqlx::query_as(
        "SELECT id, number, child_first_name || ' ' || child_last_name AS child,
                restaurant_name AS establishment, total, pay_before
           FROM reservation_view
          WHERE family_id = $1 AND status = $3 AND pay_before > $2
          ORDER BY pay_before, number",
    )
    .bind(family_id)
    .bind(now)
    .bind(ReservationStatus::AwaitingPayment.as_str())
    .fetch_all(pool)
    .await
}

/// Another payment that a provider reference already settled, if any. References the service
/// gives itself (`credit`, for payments made with the family's credit alone) are not the
/// provider's and are shared.
pub async fn payment_with_provider_ref(
    pool: &PgPool,
    provider_ref: &str,
    except: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    let row: Option<(Uuid,)> = sqlx::query_as(
        "SELECT id FROM payments
          WHERE provider_ref = $1 AND id <> $2 AND provider_ref <> 'credit' LIMIT 1",
    )
    .bind(provider_ref)
    .bind(except)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id,)| id))
}
