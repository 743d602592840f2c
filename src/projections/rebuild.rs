//! Rebuilding and verifying projections from the log.
//!
//! Both replay into a scratch schema that has empty copies of the projection's tables (and its
//! own checkpoint table), with `search_path` pointing there, so the projection code runs
//! unchanged. A rebuild then swaps the new tables in; a verification compares them row by row
//! with the live ones at the same position of the log.

use std::time::{Duration, Instant};

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::projector::{
    apply_batch_in, catch_up_in_schema, lock_checkpoint, read_events, safe_head, save_checkpoint,
    set_search_path, BATCH,
};
use super::{Position, Projection};

async fn create_scratch(
    pool: &PgPool,
    schema: &str,
    projections: &[&dyn Projection],
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!(
        "CREATE TABLE {schema}.projection_checkpoints (LIKE public.projection_checkpoints INCLUDING ALL)"
    ))
    .execute(&mut *tx)
    .await?;
    for projection in projections {
        for table in projection.tables() {
            sqlx::query(&format!(
                "CREATE TABLE {schema}.{table} (LIKE public.{table} INCLUDING ALL)"
            ))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn drop_scratch(pool: &PgPool, schema: &str) -> anyhow::Result<()> {
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(pool)
        .await?;
    Ok(())
}

fn scratch_name(purpose: &str) -> String {
    format!("{purpose}_{}", &Uuid::new_v4().simple().to_string()[..12])
}

/// Applies, inside `tx`, every event up to `until` to the projection's tables in `schema`.
async fn apply_until(
    tx: &mut PgConnection,
    projection: &dyn Projection,
    schema: &str,
    until: Position,
) -> anyhow::Result<usize> {
    set_search_path(tx, schema).await?;
    let mut total = 0;
    loop {
        let (_, applied) = apply_batch_in(tx, projection, until, BATCH).await?;
        total += applied;
        if applied < BATCH as usize {
            break;
        }
    }
    sqlx::query("SET LOCAL search_path TO public")
        .execute(&mut *tx)
        .await?;
    Ok(total)
}

#[derive(Debug)]
pub struct RebuildReport {
    pub projection: &'static str,
    pub events: u64,
    pub elapsed: Duration,
}

/// Rebuilds a projection from zero. The live tables keep serving until the new ones are
/// complete; the swap is one short transaction.
pub async fn rebuild(pool: &PgPool, projection: &dyn Projection) -> anyhow::Result<RebuildReport> {
    let started = Instant::now();
    let schema = scratch_name("rebuild");
    create_scratch(pool, &schema, &[projection]).await?;
    let result = async {
        catch_up_in_schema(pool, projection, &schema, None).await?;
        let mut tx = pool.begin().await?;
        // Waits for the live projector's batch in progress, and holds it off until the swap.
        lock_checkpoint(&mut tx, projection.name()).await?;
        let head = safe_head(&mut tx).await?;
        apply_until(&mut tx, projection, &schema, head).await?;
        let (position_tx, position, recorded_at): (String, i64, Option<chrono::DateTime<chrono::Utc>>) = sqlx::query_as(&format!(
            "SELECT last_transaction_id::text, last_position, last_recorded_at FROM {schema}.projection_checkpoints WHERE name = $1"
        ))
        .bind(projection.name())
        .fetch_one(&mut *tx)
        .await?;
        for table in projection.tables() {
            sqlx::query(&format!("DROP TABLE public.{table}")).execute(&mut *tx).await?;
            sqlx::query(&format!("ALTER TABLE {schema}.{table} SET SCHEMA public"))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE projection_checkpoints SET last_transaction_id = $2::text::xid8, last_position = $3,
                    last_recorded_at = $4, updated_at = now()
              WHERE name = $1",
        )
        .bind(projection.name())
        .bind(position_tx)
        .bind(position)
        .bind(recorded_at)
        .execute(&mut *tx)
        .await?;
        let (events,): (i64,) = sqlx::query_as("SELECT count(*) FROM events").fetch_one(&mut *tx).await?;
        tx.commit().await?;
        anyhow::Ok(events as u64)
    }
    .await;
    drop_scratch(pool, &schema).await?;
    Ok(RebuildReport {
        projection: projection.name(),
        events: result?,
        elapsed: started.elapsed(),
    })
}

/// Replays the log into fresh copies of several projections, reading each batch once for all
/// of them: reading and decoding the log once per projection was most of a replay's time.
async fn catch_up_together_in_schema(
    pool: &PgPool,
    projections: &[&dyn Projection],
    schema: &str,
) -> anyhow::Result<()> {
    loop {
        let mut tx = pool.begin().await?;
        set_search_path(&mut tx, schema).await?;
        let mut from = None;
        for projection in projections {
            let checkpoint = lock_checkpoint(&mut tx, projection.name()).await?;
            anyhow::ensure!(
                from.is_none_or(|f| f == checkpoint),
                "the scratch copies of the projections are not at the same position"
            );
            from = Some(checkpoint);
        }
        let Some(from) = from else {
            return Ok(());
        };
        let events = read_events(&mut tx, from, Position::END, BATCH).await?;
        let Some(last) = events.last() else {
            return Ok(());
        };
        for projection in projections {
            projection.apply_all(&mut tx, &events).await?;
            save_checkpoint(&mut tx, projection.name(), last).await?;
        }
        tx.commit().await?;
        if events.len() < BATCH as usize {
            return Ok(());
        }
    }
}

#[derive(Debug, Clone)]
pub struct TableDifference {
    pub table: String,
    /// Rows found on one side and not the other (counted with multiplicity, both ways).
    pub differing_rows: i64,
}

/// Replays the whole log into a scratch schema and compares every row of every projection with
/// the live one, both brought to the same position of the log.
pub async fn verify(
    pool: &PgPool,
    projections: &[&dyn Projection],
) -> anyhow::Result<Vec<TableDifference>> {
    let schema = scratch_name("verify");
    create_scratch(pool, &schema, projections).await?;
    let result = async {
        let mut differences = Vec::new();
        catch_up_together_in_schema(pool, projections, &schema).await?;
        for projection in projections {
            // What the log gained since the replay above, as the live projector would.
            catch_up_in_schema(pool, *projection, &schema, None).await?;
            let mut tx = pool.begin().await?;
            lock_checkpoint(&mut tx, projection.name()).await?;
            let head = safe_head(&mut tx).await?;
            apply_until(&mut tx, *projection, "public", head).await?;
            apply_until(&mut tx, *projection, &schema, head).await?;
            for table in projection.tables() {
                let (differing_rows,): (i64,) = sqlx::query_as(&format!(
                    "SELECT (SELECT count(*) FROM (TABLE public.{table} EXCEPT ALL TABLE {schema}.{table}) a)
                          + (SELECT count(*) FROM (TABLE {schema}.{table} EXCEPT ALL TABLE public.{table}) b)"
                ))
                .fetch_one(&mut *tx)
                .await?;
                differences.push(TableDifference {
                    table: table.to_string(),
                    differing_rows,
                });
            }
            tx.commit().await?;
        }
        anyhow::Ok(differences)
    }
    .await;
    drop_scratch(pool, &schema).await?;
    result
}
