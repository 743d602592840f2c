//! What operators read about the service itself: whether the database answers, and how far a
//! projection is behind the log.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::projections::Position;

/// Whether the database answers a trivial query.
pub async fn ping(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
}

/// When the last event the projection applied was recorded (none yet: `None`).
pub async fn last_applied_recorded_at(
    conn: &mut PgConnection,
    projection: &str,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    let row: Option<(Option<DateTime<Utc>>,)> =
        sqlx::query_as("SELECT last_recorded_at FROM projection_checkpoints WHERE name = $1")
            .bind(projection)
            .fetch_optional(conn)
            .await?;
    Ok(row.and_then(|(at,)| at))
}

/// Milliseconds since the oldest event after `checkpoint` was recorded (0 when there is none).
pub async fn lag_ms_after(conn: &mut PgConnection, checkpoint: Position) -> sqlx::Result<i64> {
    let (lag,): (Option<f64>,) = sqlx::query_as(
        "SELECT EXTRACT(EPOCH FROM (now() - min(recorded_at))) * 1000 FROM events
          WHERE (transaction_id, global_position) > ($1::text::xid8, $2)",
    )
    .bind(checkpoint.xid_text())
    .bind(checkpoint.global_position)
    .fetch_one(conn)
    .await?;
    Ok(lag.unwrap_or(0.0).max(0.0) as i64)
}
