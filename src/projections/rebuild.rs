//! Rebuilding and verifying projections from the log.
//!
//! Both replay into a scratch schema that has empty copies of the projection's tables (and its
//! own checkpoint table), with `search_path` pointing there, so the projection code runs
//! unchanged. A rebuild then swaps the new tables in; a verification compares them row by row
//! with the live ones at the same position of the log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::projector::{
    apply_batch_in, catch_up_in_schema, lock_checkpoint, safe_head, save_checkpoint,
    set_search_path, stream_events, BATCH,
};
use super::{Position, Projection, StoredEvent};

/// The schema whose projections are live: `public`, or the town's on an install serving
/// several (its pool's search path names it alone).
async fn home_schema(pool: &PgPool) -> anyhow::Result<String> {
    let (home,): (String,) = sqlx::query_as("SELECT current_schema()")
        .fetch_one(pool)
        .await?;
    Ok(home)
}

async fn create_scratch(
    pool: &PgPool,
    schema: &str,
    projections: &[&dyn Projection],
) -> anyhow::Result<()> {
    let home = home_schema(pool).await?;
    let mut tx = pool.begin().await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!(
        "CREATE TABLE {schema}.projection_checkpoints (LIKE {home}.projection_checkpoints INCLUDING ALL)"
    ))
    .execute(&mut *tx)
    .await?;
    for projection in projections {
        for table in projection.tables() {
            sqlx::query(&format!(
                "CREATE TABLE {schema}.{table} (LIKE {home}.{table} INCLUDING ALL)"
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
    let (home,): (String,) = sqlx::query_as("SELECT current_schema()")
        .fetch_one(&mut *tx)
        .await?;
    set_search_path(tx, schema).await?;
    let mut total = 0;
    loop {
        let (_, applied) = apply_batch_in(tx, projection, until, BATCH).await?;
        total += applied;
        if applied < BATCH as usize {
            break;
        }
    }
    sqlx::query("SELECT set_config('search_path', $1, true)")
        .bind(&home)
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
pub async fn rebuild(
    pool: &PgPool,
    projection: Arc<dyn Projection>,
) -> anyhow::Result<RebuildReport> {
    let started = Instant::now();
    let home = home_schema(pool).await?;
    let schema = scratch_name("rebuild");
    create_scratch(pool, &schema, &[projection.as_ref()]).await?;
    let result = async {
        catch_up_together_in_schema(pool, std::slice::from_ref(&projection), &schema).await?;
        let projection = projection.as_ref();
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
            sqlx::query(&format!("DROP TABLE {home}.{table}")).execute(&mut *tx).await?;
            sqlx::query(&format!("ALTER TABLE {schema}.{table} SET SCHEMA {home}"))
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

/// How long one projection of a replay worked, apart from waiting for the reader: the
/// slowest one's is the replay's bound.
#[derive(Debug, Clone)]
pub struct ReplayWork {
    pub projection: &'static str,
    /// Deriving its rows from the events (and, for a projection that writes per batch, its
    /// writes: they are one call).
    pub feeding: Duration,
    /// Writing what it held, its checkpoint, and the commits.
    pub writing: Duration,
}

/// Replays the log into fresh copies of several projections: one reader reads each batch once
/// for all of them (reading and decoding the log once per projection was most of a replay's
/// time), and each projection applies them on its own connection and core, holding its rows
/// in memory across batches until it is full or the log ends.
async fn catch_up_together_in_schema(
    pool: &PgPool,
    projections: &[Arc<dyn Projection>],
    schema: &str,
) -> anyhow::Result<Vec<ReplayWork>> {
    let from = {
        let mut conn = pool.acquire().await?;
        let mut from = None;
        for projection in projections {
            let checkpoint = read_checkpoint_in(&mut conn, schema, projection.name()).await?;
            anyhow::ensure!(
                from.is_none_or(|f| f == checkpoint),
                "the scratch copies of the projections are not at the same position"
            );
            from = Some(checkpoint);
        }
        match from {
            Some(from) => from,
            None => return Ok(Vec::new()),
        }
    };
    // Connections of their own: taken from the pool, a small pool could leave the reader
    // waiting behind the projections that wait for it.
    // Opened together rather than one after the other (each is a few round trips).
    let options = pool.connect_options();
    let mut connections = futures_util::future::try_join_all(
        (0..=projections.len()).map(|_| PgConnection::connect_with(&options)),
    )
    .await?;
    let reader_conn = connections.pop().expect("one connection for the reader");
    let mut senders = Vec::with_capacity(projections.len());
    let mut workers = Vec::with_capacity(projections.len());
    for (projection, conn) in projections.iter().zip(connections) {
        let (sender, receiver) = mpsc::channel(READ_AHEAD);
        senders.push(sender);
        workers.push(tokio::spawn(replay_into(
            conn,
            projection.clone(),
            schema.to_string(),
            receiver,
        )));
    }
    let reader = tokio::spawn(read_ahead(reader_conn, from, senders));
    let mut outcome = Ok(Vec::with_capacity(workers.len()));
    for worker in workers {
        let result = worker.await.map_err(anyhow::Error::from).and_then(|r| r);
        outcome = match (outcome, result) {
            (Ok(mut works), Ok(work)) => {
                works.push(work);
                Ok(works)
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
    }
    let read = reader.await.map_err(anyhow::Error::from).and_then(|r| r);
    // A worker's error explains a reader that found its receiver gone.
    outcome.and_then(|works| read.map(|()| works))
}

/// Batches a replay's reader may read ahead of its slowest projection.
const READ_AHEAD: usize = 4;

async fn read_checkpoint_in(
    conn: &mut PgConnection,
    schema: &str,
    name: &str,
) -> anyhow::Result<Position> {
    let mut tx = conn.begin().await?;
    set_search_path(&mut tx, schema).await?;
    let position = lock_checkpoint(&mut tx, name).await?;
    tx.commit().await?;
    Ok(position)
}

/// Reads the log from `from` to its safe end, and hands every batch to every projection.
async fn read_ahead(
    mut conn: PgConnection,
    from: Position,
    senders: Vec<mpsc::Sender<Arc<Vec<StoredEvent>>>>,
) -> anyhow::Result<()> {
    let send = |events: Vec<StoredEvent>| {
        let events = Arc::new(events);
        let senders = &senders;
        async move {
            for sender in senders {
                sender
                    .send(events.clone())
                    .await
                    .map_err(|_| anyhow::anyhow!("a projection stopped during the replay"))?;
            }
            anyhow::Ok(())
        }
    };
    let mut stream = std::pin::pin!(stream_events(&mut conn, from));
    let mut batch = Vec::with_capacity(BATCH as usize);
    while let Some(event) = stream.try_next().await? {
        batch.push(event);
        if batch.len() == BATCH as usize {
            send(std::mem::replace(
                &mut batch,
                Vec::with_capacity(BATCH as usize),
            ))
            .await?;
        }
    }
    if !batch.is_empty() {
        send(batch).await?;
    }
    Ok(())
}

/// Applies what the reader hands over to one projection's copy in `schema`: one transaction
/// (rows and checkpoint) each time the projection's replay is full, and one at the end.
async fn replay_into(
    mut conn: PgConnection,
    projection: Arc<dyn Projection>,
    schema: String,
    mut batches: mpsc::Receiver<Arc<Vec<StoredEvent>>>,
) -> anyhow::Result<ReplayWork> {
    let mut replay = projection.replay();
    let mut work = ReplayWork {
        projection: projection.name(),
        feeding: Duration::ZERO,
        writing: Duration::ZERO,
    };
    while let Some(mut events) = batches.recv().await {
        let started = Instant::now();
        let mut tx = conn.begin().await?;
        // Scratch copies need no flush of their own: a verification drops them, and a
        // rebuild's swap commits (and flushes the log) after them, or leaves them unused.
        sqlx::query("SET LOCAL synchronous_commit TO off")
            .execute(&mut *tx)
            .await?;
        set_search_path(&mut tx, &schema).await?;
        lock_checkpoint(&mut tx, projection.name()).await?;
        work.writing += started.elapsed();
        let last = loop {
            let started = Instant::now();
            replay.feed(&mut tx, &events).await?;
            work.feeding += started.elapsed();
            if replay.full() {
                break events;
            }
            match batches.recv().await {
                Some(next) => events = next,
                None => break events,
            }
        };
        let started = Instant::now();
        replay.flush(&mut tx).await?;
        let last = last.last().expect("the reader hands over no empty batch");
        save_checkpoint(&mut tx, projection.name(), last).await?;
        tx.commit().await?;
        work.writing += started.elapsed();
    }
    Ok(work)
}

#[derive(Debug, Clone)]
pub struct TableDifference {
    pub table: String,
    /// Rows found on one side and not the other (counted with multiplicity, both ways).
    pub differing_rows: i64,
}

/// What a verification found, and how long its replay from zero took (the comparison aside).
#[derive(Debug)]
pub struct Verification {
    pub differences: Vec<TableDifference>,
    pub replayed_in: Duration,
    /// Each projection's share of the replay.
    pub work: Vec<ReplayWork>,
}

/// Replays the whole log into a scratch schema and compares every row of every projection with
/// the live one, both brought to the same position of the log.
pub async fn verify(
    pool: &PgPool,
    projections: &[Arc<dyn Projection>],
) -> anyhow::Result<Verification> {
    let home = home_schema(pool).await?;
    let schema = scratch_name("verify");
    let borrowed: Vec<&dyn Projection> = projections.iter().map(|p| p.as_ref()).collect();
    create_scratch(pool, &schema, &borrowed).await?;
    let result = async {
        let mut differences = Vec::new();
        let started = Instant::now();
        let work = catch_up_together_in_schema(pool, projections, &schema).await?;
        let replayed_in = started.elapsed();
        for projection in projections {
            let projection = projection.as_ref();
            // What the log gained since the replay above, as the live projector would.
            catch_up_in_schema(pool, projection, &schema, None).await?;
            let mut tx = pool.begin().await?;
            lock_checkpoint(&mut tx, projection.name()).await?;
            let head = safe_head(&mut tx).await?;
            apply_until(&mut tx, projection, &home, head).await?;
            apply_until(&mut tx, projection, &schema, head).await?;
            for table in projection.tables() {
                let (differing_rows,): (i64,) = sqlx::query_as(&format!(
                    "SELECT (SELECT count(*) FROM (TABLE {home}.{table} EXCEPT ALL TABLE {schema}.{table}) a)
                          + (SELECT count(*) FROM (TABLE {schema}.{table} EXCEPT ALL TABLE {home}.{table}) b)"
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
        anyhow::Ok(Verification {
            differences,
            replayed_in,
            work,
        })
    }
    .await;
    drop_scratch(pool, &schema).await?;
    result
}
