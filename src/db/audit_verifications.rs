//! The auditors' verification runs: started, their phase, their outcome.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VerificationRow {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
    pub started_by: Uuid,
    pub started_by_login: Option<String>,
    pub phase: String,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub checked: Option<i64>,
    pub changed: Vec<i64>,
    pub removed: Vec<i64>,
    pub inserted: Vec<i64>,
    pub differences: Option<serde_json::Value>,
    pub error: Option<String>,
}

const COLUMNS: &str = "v.id, v.started_at, v.started_by, u.login AS started_by_login, v.phase,
    v.updated_at, v.finished_at, v.checked, v.changed, v.removed, v.inserted, v.differences,
    v.error";

/// Starts a run, or answers the one already running (`false`: not started here).
pub async fn start(pool: &PgPool, by: Uuid, now: DateTime<Utc>) -> sqlx::Result<(Uuid, bool)> {
    let started: Option<(Uuid,)> = sqlx::query_as(
        "INSERT INTO audit_verifications (id, started_at, started_by, phase, updated_at)
         VALUES ($1, $2, $3, 'chain', $2)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(now)
    .bind(by)
    .fetch_optional(pool)
    .await?;
    if let Some((id,)) = started {
        return Ok((id, true));
    }
    let (id,): (Uuid,) =
        sqlx::query_as("SELECT id FROM audit_verifications WHERE finished_at IS NULL")
            .fetch_one(pool)
            .await?;
    Ok((id, false))
}

/// The audit chain's findings; the run goes on to the projections.
pub async fn chain_checked(
    pool: &PgPool,
    id: Uuid,
    checked: i64,
    changed: &[i64],
    removed: &[i64],
    inserted: &[i64],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE audit_verifications
            SET phase = 'projections', checked = $2, changed = $3, removed = $4, inserted = $5,
                updated_at = $6
          WHERE id = $1",
    )
    .bind(id)
    .bind(checked)
    .bind(changed)
    .bind(removed)
    .bind(inserted)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// The run's end: per projection table, the rows that differ from the replay.
pub async fn finish(
    pool: &PgPool,
    id: Uuid,
    differences: &[(String, i64)],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let differences = serde_json::Value::Array(
        differences
            .iter()
            .map(|(table, rows)| serde_json::json!({"table": table, "differing_rows": rows}))
            .collect(),
    );
    sqlx::query(
        "UPDATE audit_verifications
            SET phase = 'done', differences = $2, updated_at = $3, finished_at = $3
          WHERE id = $1",
    )
    .bind(id)
    .bind(&differences)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn fail(pool: &PgPool, id: Uuid, error: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE audit_verifications
            SET phase = 'failed', error = $2, updated_at = $3, finished_at = $3
          WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Ends a run that stopped saying it was alive (its server stopped): it will never finish.
pub async fn abandon(pool: &PgPool, id: Uuid, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE audit_verifications
            SET phase = 'failed', error = 'interrupted: the service stopped during the run',
                finished_at = $2
          WHERE id = $1 AND finished_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn latest(pool: &PgPool) -> sqlx::Result<Option<VerificationRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_verifications v LEFT JOIN users u ON u.id = v.started_by
          ORDER BY v.started_at DESC, v.id DESC LIMIT 1"
    ))
    .fetch_optional(pool)
    .await
}
