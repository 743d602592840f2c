//! The idempotency keys of POST requests (`api/idempotency.rs` decides what to do with them).
//!
//! A request claims its key in one statement, so that of two concurrent requests with the same
//! key exactly one runs the handler; the others read the row and wait or replay. Every time comes
//! from the injected clock.

use chrono::{DateTime, Duration, Utc};
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

/// A repeat within this long gets the first answer; after it, the key is free again.
pub fn kept_for() -> Duration {
    Duration::hours(24)
}

/// A claim older than this belongs to a request that will never finish (its server died): the
/// next request with the same key takes it over. Handlers answer in well under a second.
pub fn lease() -> Duration {
    Duration::seconds(60)
}

/// Who asks, with which key, for what.
#[derive(Debug, Clone)]
pub struct Key {
    pub scope: String,
    pub key: String,
    pub fingerprint: String,
}

/// The first answer, as it is replayed.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub status: u16,
    /// The headers that matter to a client (content type, location, retry-after).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What another request left under this key.
#[derive(Debug, Clone)]
pub enum Found {
    InProgress {
        fingerprint: String,
    },
    Complete {
        fingerprint: String,
        answer: StoredAnswer,
    },
}

/// Takes the key for `owner`: true when this request is to run the handler. A key is free when
/// absent, older than [`kept_for`], or claimed for the same request longer than [`lease`] ago.
pub async fn claim(
    pool: &PgPool,
    key: &Key,
    owner: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    // ON CONFLICT locks the existing row and checks the condition on its newest version, so two
    // requests can never both take over the same stale row.
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, state, owner, created_at, started_at)
         VALUES ($1, $2, $3, 'in_progress', $4, $5, $5)
         ON CONFLICT (scope, key) DO UPDATE
            SET fingerprint = EXCLUDED.fingerprint, state = 'in_progress', owner = EXCLUDED.owner,
                status = NULL, headers = NULL, body = NULL,
                created_at = EXCLUDED.created_at, started_at = EXCLUDED.started_at
          WHERE idempotency_keys.created_at <= $6
             OR (idempotency_keys.state = 'in_progress' AND idempotency_keys.started_at <= $7
                 AND idempotency_keys.fingerprint = EXCLUDED.fingerprint)",
    )
    .bind(&key.scope)
    .bind(&key.key)
    .bind(&key.fingerprint)
    .bind(owner)
    .bind(now)
    .bind(now - kept_for())
    .bind(now - lease())
    .execute(pool)
    .await?
    .rows_affected();
    Ok(claimed == 1)
}

type Row = (
    String,
    String,
    Option<i16>,
    Option<Json<Vec<(String, String)>>>,
    Option<Vec<u8>>,
);

/// The key's row, unless it is past its 24 hours (then it is as good as absent).
pub async fn find(pool: &PgPool, key: &Key, now: DateTime<Utc>) -> sqlx::Result<Option<Found>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT fingerprint, state, status, headers, body FROM idempotency_keys
          WHERE scope = $1 AND key = $2 AND created_at > $3",
    )
    .bind(&key.scope)
    .bind(&key.key)
    .bind(now - kept_for())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(found))
}

fn found((fingerprint, state, status, headers, body): Row) -> Found {
    match (state.as_str(), status, headers, body) {
        ("complete", Some(status), Some(Json(headers)), Some(body)) => Found::Complete {
            fingerprint,
            answer: StoredAnswer {
                status: u16::try_from(status).unwrap_or(500),
                headers,
                body,
            },
        },
        _ => Found::InProgress { fingerprint },
    }
}

/// Keeps the answer for repeats, if `owner` still holds the key.
pub async fn complete(
    pool: &PgPool,
    key: &Key,
    owner: Uuid,
    answer: &StoredAnswer,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'complete', status = $4, headers = $5, body = $6
          WHERE scope = $1 AND key = $2 AND owner = $3 AND state = 'in_progress'",
    )
    .bind(&key.scope)
    .bind(&key.key)
    .bind(owner)
    .bind(i16::try_from(answer.status).unwrap_or(i16::MAX))
    .bind(Json(&answer.headers))
    .bind(&answer.body)
    .execute(pool)
    .await?;
    Ok(())
}

/// Frees the key (the handler failed): the client's retry runs for real.
pub async fn release(pool: &PgPool, key: &Key, owner: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM idempotency_keys
          WHERE scope = $1 AND key = $2 AND owner = $3 AND state = 'in_progress'",
    )
    .bind(&key.scope)
    .bind(&key.key)
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes the keys past their 24 hours; answers how many.
pub async fn purge(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let deleted = sqlx::query("DELETE FROM idempotency_keys WHERE created_at <= $1")
        .bind(now - kept_for())
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted)
}
