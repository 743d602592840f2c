//! Which reservations hold places past their deadline, from the reservations projection.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::reservation::ReservationStatus;

/// Requests left unconfirmed and prepaid reservations left unpaid whose deadline is at or
/// before `now`, the most overdue first, at most `limit`.
pub async fn due(pool: &PgPool, now: DateTime<Utc>, limit: i64) -> sqlx::Result<Vec<Uuid>> {
    let holding = [
        ReservationStatus::Requested.as_str(),
        ReservationStatus::AwaitingPayment.as_str(),
    ];
    let rows: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT id FROM reservation_view
          WHERE status = ANY($1) AND expires_at <= $2
          ORDER BY expires_at LIMIT $3",
    )
    .bind(&holding[..])
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
