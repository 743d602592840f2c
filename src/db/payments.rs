//! Payments started by families and settled by the provider's notifications.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: Uuid,
    pub family_id: Uuid,
    pub reservation_ids: Vec<Uuid>,
    pub amount: Decimal,
    pub status: String,
    pub provider_ref: Option<String>,
}

pub async fn insert_payment(
    pool: &PgPool,
    id: Uuid,
    family_id: Uuid,
    reservation_ids: &[Uuid],
    amount: Decimal,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO payments (id, family_id, reservation_ids, amount, status, created_at)
         VALUES ($1, $2, $3, $4, 'pending', $5)",
    )
    .bind(id)
    .bind(family_id)
    .bind(reservation_ids)
    .bind(amount)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn payment(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as("SELECT id, family_id, reservation_ids, amount, status, provider_ref FROM payments WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Reservations among `ids` already inside a payment that has not been settled.
pub async fn pending_for(pool: &PgPool, ids: &[Uuid]) -> sqlx::Result<Vec<Uuid>> {
    let rows: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT DISTINCT r FROM payments, unnest(reservation_ids) AS r
          WHERE status = 'pending' AND reservation_ids && $1 AND r = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Moves a pending payment to its outcome. Answers false when it was already settled, which is
/// how a repeated notification ends up having the effect of one.
pub async fn settle(
    pool: &PgPool,
    id: Uuid,
    status: &str,
    provider_ref: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE payments SET status = $2, provider_ref = $3, settled_at = $4 WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(status)
    .bind(provider_ref)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(result.rows_affected() == 1)
}
