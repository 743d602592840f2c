//! What operators read about the service itself: whether the database answers, and how far a
//! projection is behind the log.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::domain::reservation::ReservationStatus;
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
        "SELECT (EXTRACT(EPOCH FROM (now() - min(recorded_at))) * 1000)::float8 FROM events
          WHERE (transaction_id, global_position) > ($1::text::xid8, $2)",
    )
    .bind(checkpoint.xid_text())
    .bind(checkpoint.global_position)
    .fetch_one(conn)
    .await?;
    Ok(lag.unwrap_or(0.0).max(0.0) as i64)
}

/// How many of the service's migrations the database has not applied (or applied with a
/// failure): a server on such a database is not ready.
pub async fn pending_migrations(pool: &PgPool) -> sqlx::Result<usize> {
    let applied: Vec<(i64,)> =
        match sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await
        {
            Ok(rows) => rows,
            // No migration table: none applied.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
            Err(e) => return Err(e),
        };
    let applied: std::collections::HashSet<i64> = applied.into_iter().map(|(v,)| v).collect();
    Ok(sqlx::migrate!("./migrations")
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .count())
}

/// Reservations holding places: prepaid ones awaiting payment before their deadline, and
/// requests not yet confirmed.
pub async fn holds(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = $2 AND pay_before > $1),
                count(*) FILTER (WHERE status = $3)
           FROM reservation_view WHERE status IN ($2, $3)",
    )
    .bind(now)
    .bind(ReservationStatus::AwaitingPayment.as_str())
    .bind(ReservationStatus::Requested.as_str())
    .fetch_one(pool)
    .await
}
