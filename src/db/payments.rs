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

/// The invoices a payment pays, as started (none for a payment of reservations only).
pub async fn invoice_allocations(
    pool: &PgPool,
    id: Uuid,
) -> anyhow::Result<Vec<payment::InvoiceAllocation>> {
    let (version, payload): (String, Value) = sqlx::query_as(
        "SELECT event_version, payload FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = 1",
    )
    .bind(payment::AGGREGATE_TYPE)
    .bind(id.to_string())
    .fetch_one(pool)
    .await?;
    let (_, payload) = crate::domain::upcasting::upcast("PaymentStarted", &version, payload)?;
    match serde_json::from_value(payload)? {
        PaymentEvent::PaymentStarted(started) => Ok(started.invoices),
        other => anyhow::bail!("payment {id} starts with {}", other.event_type()),
    }
}

/// What the family's succeeded payments paid on each of its invoices (credit and cash, before
/// any overpayment was kept as credit), leaving out payment `except`.
pub async fn paid_on_invoices(
    pool: &PgPool,
    family_id: Uuid,
    except: Option<Uuid>,
) -> sqlx::Result<Vec<(Uuid, Decimal)>> {
    sqlx::query_as(
        "SELECT (a->>'invoice_id')::uuid,
                sum((a->>'credit')::numeric + (a->>'cash')::numeric)
           FROM payments p
           JOIN events e ON e.aggregate_type = $3 AND e.aggregate_id = p.id::text AND e.sequence = 1
           CROSS JOIN jsonb_array_elements(COALESCE(e.payload->'PaymentStarted'->'invoices',
                                                    e.payload->'DeskPaymentRecorded'->'invoices',
                                                    e.payload->'SepaDebitPresented'->'invoices')) a
          WHERE p.family_id = $1 AND p.status = $4 AND cardinality(p.invoice_ids) > 0
            AND p.reversed_at IS NULL AND ($2::uuid IS NULL OR p.id <> $2)
          GROUP BY 1",
    )
    .bind(family_id)
    .bind(except)
    .bind(payment::AGGREGATE_TYPE)
    .bind(PaymentStatus::Succeeded.as_str())
    .fetch_all(pool)
    .await
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
    /// The period's activity and label ("CANTINE SCOLAIRE Restauration Le Repausset 2016-2017").
    pub period: String,
    pub created_at: DateTime<Utc>,
    pub first_day: chrono::NaiveDate,
    pub last_day: chrono::NaiveDate,
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
                restaurant_name AS establishment, period_activity || ' ' || period_label AS period,
                created_at, first_day, last_day, total, pay_before
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

/// The family's payments the provider has not settled and whose page may still be open (started
/// less than the provider's session ago), the newest first: `(id, amount, created_at)`.
pub async fn live_pending(
    pool: &PgPool,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(Uuid, Decimal, DateTime<Utc>)>> {
    sqlx::query_as(
        "SELECT id, amount, created_at FROM payments
          WHERE family_id = $1 AND status = $2 AND created_at > $3
          ORDER BY created_at DESC",
    )
    .bind(family_id)
    .bind(PaymentStatus::Pending.as_str())
    .bind(now - payment::PROVIDER_SESSION)
    .fetch_all(pool)
    .await
}

/// The organisation's families whose credit is positive: id, name, credit; by name.
pub async fn families_with_credit(
    pool: &PgPool,
    organisation_id: Uuid,
) -> sqlx::Result<Vec<(Uuid, String, Decimal)>> {
    sqlx::query_as(
        "SELECT f.id, f.name, c.available FROM family_credits c JOIN families f ON f.id = c.family_id
          WHERE f.organisation_id = $1 AND c.available > 0
          ORDER BY f.name, f.id",
    )
    .bind(organisation_id)
    .fetch_all(pool)
    .await
}
