use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};
use tokio::task::JoinHandle;

use super::ProjectionProgress;

/// One row of the event log, as projections see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEvent {
    pub global_position: i64,
    pub transaction_id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: serde_json::Value,
    pub metadata: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
}

#[async_trait]
pub trait Projection: Send + Sync {
    fn name(&self) -> &'static str;
    async fn apply(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        event: &StoredEvent,
    ) -> anyhow::Result<()>;
}

const BATCH: i64 = 500;
const POLL: Duration = Duration::from_millis(500);

pub struct ProjectorHandle {
    task: JoinHandle<()>,
}

impl ProjectorHandle {
    pub fn abort(&self) {
        self.task.abort();
    }
}

/// Starts the projector loop for `projection`.
pub fn run_projector(
    pool: PgPool,
    projection: Arc<dyn Projection>,
    progress: Arc<ProjectionProgress>,
) -> ProjectorHandle {
    progress.wake();
    let task = tokio::spawn(async move {
        loop {
            // Read the write count first: whatever was written before this instant is
            // committed, so once the log is drained it is applied.
            let target = progress.written();
            match catch_up(&pool, projection.as_ref()).await {
                Ok(true) => {
                    progress.mark_applied(target);
                    let _ = tokio::time::timeout(POLL, progress.woken()).await;
                }
                Ok(false) => {
                    // Committed events wait behind an older transaction still running.
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                Err(e) => {
                    tracing::error!(projection = projection.name(), error = ?e, "projector batch failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    ProjectorHandle { task }
}

/// Applies batches until nothing safe is left. Answers whether the log is fully drained
/// (false: some committed events are still held back by an older running transaction).
pub async fn catch_up(pool: &PgPool, projection: &dyn Projection) -> anyhow::Result<bool> {
    loop {
        let applied = apply_batch(pool, projection).await?;
        if applied < BATCH as usize {
            return unsafe_events_pending(pool, projection.name())
                .await
                .map(|p| !p);
        }
    }
}

async fn apply_batch(pool: &PgPool, projection: &dyn Projection) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    sqlx::query("INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(projection.name())
        .execute(&mut *tx)
        .await?;
    // The row lock makes a second server's projector wait instead of applying twice.
    let (last_tx, last_pos): (String, i64) = sqlx::query_as(
        "SELECT last_transaction_id::text, last_position FROM projection_checkpoints
          WHERE name = $1 FOR UPDATE",
    )
    .bind(projection.name())
    .fetch_one(&mut *tx)
    .await?;
    // Only transactions older than every running one are read: a transaction that started
    // earlier but commits later can never land behind the checkpoint.
    let events: Vec<StoredEvent> = sqlx::query_as(
        "SELECT global_position, transaction_id::text AS transaction_id, aggregate_type, aggregate_id,
                sequence, event_type, event_version, payload, metadata, recorded_at
           FROM events
          WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
            AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          -- Qualified: the bare name would sort by the text alias of the select list, and
          -- '999' sorts after '1000': a batch crossing a power of ten then checkpointed
          -- behind events it had applied, and the next batch failed on them for ever.
          ORDER BY events.transaction_id, events.global_position
          LIMIT $3",
    )
    .bind(&last_tx)
    .bind(last_pos)
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    let Some(last) = events.last().cloned() else {
        // Committed, not rolled back, so that the checkpoint row exists for the pending check.
        tx.commit().await?;
        return Ok(0);
    };
    for event in &events {
        projection.apply(&mut tx, event).await?;
    }
    sqlx::query(
        "UPDATE projection_checkpoints
            SET last_transaction_id = $2::text::xid8, last_position = $3, last_recorded_at = $4, updated_at = now()
          WHERE name = $1",
    )
    .bind(projection.name())
    .bind(&last.transaction_id)
    .bind(last.global_position)
    .bind(last.recorded_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(events.len())
}

async fn unsafe_events_pending(pool: &PgPool, name: &str) -> anyhow::Result<bool> {
    let (pending,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (
            SELECT 1 FROM events e, projection_checkpoints c
             WHERE c.name = $1
               AND (e.transaction_id, e.global_position) > (c.last_transaction_id, c.last_position))",
    )
    .bind(name)
    .fetch_one(pool)
    .await?;
    Ok(pending)
}
