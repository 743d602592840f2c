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
use tokio::sync::{mpsc, Semaphore};
use uuid::Uuid;

use super::projector::{
    apply_batch_in, catch_up_in_schema, lock_checkpoint, safe_head, save_checkpoint,
    set_search_path, stream_events, BATCH,
};
use super::{HeldWrites, Position, Projection, Replay, StoredEvent};
use anyhow::Context;

/// The schema whose projections are live: `public`, or the town's on an install serving
/// several (its pool's search path names it alone).
async fn home_schema(pool: &PgPool) -> anyhow::Result<String> {
    let (home,): (String,) = sqlx::query_as("SELECT current_schema()")
        .fetch_one(pool)
        .await?;
    Ok(home)
}

/// An index of a live table that a scratch copy gets only once the log has been replayed into
/// it: built in one pass over the finished table, it costs a fraction of keeping it up to date
/// row by row (the audit chain's two indexes tripled the cost of inserting its rows).
#[derive(Clone)]
struct DeferredIndex {
    table: String,
    /// The statement that builds it on the scratch copy.
    create: String,
}

/// Makes empty copies of the projections' tables in `schema`, and returns the indexes to build
/// once they are filled (see [`build_deferred_indexes`]).
///
/// The copies are unlogged: a verification drops them, and a rebuild makes them logged before
/// it swaps them in (one pass that writes each table to the WAL whole, instead of a WAL record
/// per row). They keep their check constraints and primary key, which the replay looks rows up
/// by and upserts on; their other indexes and unique constraints are deferred.
async fn create_scratch(
    pool: &PgPool,
    schema: &str,
    projections: &[&dyn Projection],
) -> anyhow::Result<Vec<DeferredIndex>> {
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
    let mut deferred = Vec::new();
    for projection in projections {
        for table in projection.tables() {
            sqlx::query(&format!(
                "CREATE UNLOGGED TABLE {schema}.{table}
                   (LIKE {home}.{table} INCLUDING ALL EXCLUDING INDEXES)"
            ))
            .execute(&mut *tx)
            .await?;
            for index in live_indexes(&mut tx, &home, table).await? {
                let create = index.create_on(schema, table);
                if index.is_primary {
                    sqlx::query(&create).execute(&mut *tx).await?;
                } else {
                    deferred.push(DeferredIndex {
                        table: table.to_string(),
                        create,
                    });
                }
            }
        }
    }
    tx.commit().await?;
    Ok(deferred)
}

/// An index of a live table, as its definition reads.
#[derive(sqlx::FromRow)]
struct LiveIndex {
    name: String,
    is_primary: bool,
    is_unique: bool,
    /// The constraint it backs (`UNIQUE (number)`), if any.
    constraint_definition: Option<String>,
    /// Its definition from `USING` on (`USING btree (family_id, issued_at DESC)`).
    using_clause: String,
}

impl LiveIndex {
    /// The statement that makes the same index, under the same name, on `schema.table`.
    fn create_on(&self, schema: &str, table: &str) -> String {
        let name = &self.name;
        match &self.constraint_definition {
            Some(definition) => {
                format!("ALTER TABLE {schema}.{table} ADD CONSTRAINT {name} {definition}")
            }
            None => {
                let unique = if self.is_unique { "UNIQUE " } else { "" };
                let using = &self.using_clause;
                format!("CREATE {unique}INDEX {name} ON {schema}.{table} {using}")
            }
        }
    }
}

async fn live_indexes(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
) -> anyhow::Result<Vec<LiveIndex>> {
    Ok(sqlx::query_as(
        "SELECT i.relname AS name, x.indisprimary AS is_primary, x.indisunique AS is_unique,
                pg_get_constraintdef(c.oid) AS constraint_definition,
                substring(pg_get_indexdef(x.indexrelid) FROM ' (USING .*)$') AS using_clause
           FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid
           LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
          WHERE x.indrelid = format('%I.%I', $1::text, $2::text)::regclass
          ORDER BY i.relname",
    )
    .bind(schema)
    .bind(table)
    .fetch_all(conn)
    .await?)
}

/// How many deferred indexes are built at once, whichever projections they are for: a build
/// keeps a core busy, and there are two. It also bounds the pool connections they take (four
/// for `cantine audit verify`), whose acquisition would otherwise time out behind long builds.
const INDEX_LANES: usize = 2;

/// Builds the indexes a scratch schema's tables were made without, in two lanes, each build
/// waiting for one of the `lanes` shared with other projections' builds.
async fn build_deferred_indexes(
    pool: &PgPool,
    schema: &str,
    deferred: &[DeferredIndex],
    lanes: &Semaphore,
) -> anyhow::Result<()> {
    let in_lanes = (0..INDEX_LANES).map(|lane| {
        let indexes: Vec<&DeferredIndex> =
            deferred.iter().skip(lane).step_by(INDEX_LANES).collect();
        build_in_turn(pool, schema, indexes, lanes)
    });
    futures_util::future::try_join_all(in_lanes).await?;
    Ok(())
}

async fn build_in_turn(
    pool: &PgPool,
    schema: &str,
    indexes: Vec<&DeferredIndex>,
    lanes: &Semaphore,
) -> anyhow::Result<()> {
    for index in indexes {
        let _lane = lanes.acquire().await?;
        let mut conn = pool.acquire().await?;
        sqlx::query(&index.create)
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "building an index of {schema}.{} after the replay: {e}",
                    index.table
                )
            })?;
    }
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
    let deferred = create_scratch(pool, &schema, &[projection.as_ref()]).await?;
    let result = async {
        // Its indexes wait for `SET LOGGED`, which would otherwise rewrite them with the table.
        catch_up_together_in_schema(pool, std::slice::from_ref(&projection), &schema, &[])
            .await?;
        let projection = projection.as_ref();
        for table in projection.tables() {
            sqlx::query(&format!("ALTER TABLE {schema}.{table} SET LOGGED"))
                .execute(pool)
                .await?;
        }
        build_deferred_indexes(pool, &schema, &deferred, &Semaphore::new(INDEX_LANES)).await?;
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
    /// Writing what it held, its checkpoint, and the commits. For a replay whose writes are
    /// handed over, the other connection's time, which runs beside the feeding.
    pub writing: Duration,
}

/// Replays the log into fresh copies of several projections: one reader reads each batch once
/// for all of them (reading and decoding the log once per projection was most of a replay's
/// time), and each projection applies them on its own connection and core, holding its rows
/// in memory across batches until it is full or the log ends.
///
/// The `deferred` indexes of a projection's tables are built as soon as its own replay ends:
/// the projections end one after the other (the reservations' last writes come last), and
/// the others' indexes are then built on a core that would otherwise wait. Built once every
/// projection had ended, the ten indexes of an opening day of 10,000 families took 150 ms
/// after the last write.
async fn catch_up_together_in_schema(
    pool: &PgPool,
    projections: &[Arc<dyn Projection>],
    schema: &str,
    deferred: &[DeferredIndex],
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
    let writes_apart: Vec<bool> = projections
        .iter()
        .map(|p| p.replay().feeds_only_read())
        .collect();
    let wanted = 1 + projections.len() + writes_apart.iter().filter(|apart| **apart).count();
    let mut connections = futures_util::future::try_join_all(
        (0..wanted).map(|_| PgConnection::connect_with(&options)),
    )
    .await?;
    let reader_conn = connections.pop().expect("one connection for the reader");
    let lanes = Arc::new(Semaphore::new(INDEX_LANES));
    let mut senders = Vec::with_capacity(projections.len());
    let mut workers = Vec::with_capacity(projections.len());
    for (projection, apart) in projections.iter().zip(writes_apart) {
        let conn = connections.pop().expect("one connection per projection");
        let writer = apart.then(|| connections.pop().expect("one for its writes"));
        let (sender, receiver) = mpsc::channel(READ_AHEAD);
        senders.push(sender);
        let indexes: Vec<DeferredIndex> = deferred
            .iter()
            .filter(|index| projection.tables().contains(&index.table.as_str()))
            .cloned()
            .collect();
        let (pool, projection, schema) = (pool.clone(), projection.clone(), schema.to_string());
        let lanes = lanes.clone();
        workers.push(tokio::spawn(async move {
            let work = replay_into(conn, writer, projection, schema.clone(), receiver).await?;
            build_deferred_indexes(&pool, &schema, &indexes, &lanes).await?;
            Ok(work)
        }));
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

/// Batches a replay's reader may read ahead of its slowest projection (shared by all of them:
/// at most this many batches in memory). With 4, the reader stopped whenever one projection
/// wrote what it held, and the others then had nothing to do: the reader ended at 400-520 ms
/// of a 650 ms replay of the opening day; with 16, at 290-370 ms.
const READ_AHEAD: usize = 16;

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

/// Has the reader's connection (its own, closed after the replay) read the log through the
/// `events_commit_order` index. For a read of the whole log PostgreSQL prefers two parallel
/// workers that scan and sort every row, payloads included: on the opening day of 10,000
/// families that took a third more CPU than the index (1.0-1.2 s against 0.75 s, measured
/// around a `COPY` of the reader's query), and its first row came only once both sorts were
/// done, while every projection waited for it.
async fn walk_the_commit_order_index(conn: &mut PgConnection) -> anyhow::Result<()> {
    sqlx::query("SET max_parallel_workers_per_gather TO 0")
        .execute(&mut *conn)
        .await?;
    sqlx::query("SET enable_sort TO off")
        .execute(&mut *conn)
        .await?;
    Ok(())
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
    walk_the_commit_order_index(&mut conn).await?;
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
/// (rows and checkpoint) each time the projection's replay is full, and one at the end. A
/// replay whose feeds only read has what it holds written on `writer`, its own connection,
/// while it is fed the next batches: its writes were a replay's longest part, and it waited
/// for them before reading on. What such a replay keeps back from its hand-overs is flushed
/// once they are all written.
async fn replay_into(
    mut conn: PgConnection,
    mut writer: Option<PgConnection>,
    projection: Arc<dyn Projection>,
    schema: String,
    mut batches: mpsc::Receiver<Arc<Vec<StoredEvent>>>,
) -> anyhow::Result<ReplayWork> {
    let mut replay = projection.replay();
    let name = projection.name();
    let mut work = ReplayWork {
        projection: name,
        feeding: Duration::ZERO,
        writing: Duration::ZERO,
    };
    let mut writing: Option<tokio::task::JoinHandle<anyhow::Result<(PgConnection, Duration)>>> =
        None;
    let mut last_fed = None;
    while let Some(mut events) = batches.recv().await {
        let started = Instant::now();
        let mut tx = begin_in_scratch(&mut conn, &schema).await?;
        if !replay.feeds_only_read() {
            lock_checkpoint(&mut tx, name).await?;
        }
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
        anyhow::ensure!(!last.is_empty(), "the reader hands over no empty batch");
        match replay.hand_over() {
            Some(held) => {
                tx.commit().await?;
                // One write at a time, in order: the replay answers its feeds as if the
                // previous one were committed.
                let conn = match writing.take() {
                    Some(previous) => {
                        let (conn, busy) = previous.await??;
                        work.writing += busy;
                        conn
                    }
                    None => writer
                        .take()
                        .context("no connection to write a replay apart")?,
                };
                last_fed = Some(last.clone());
                writing = Some(tokio::spawn(write_apart(
                    conn,
                    name,
                    schema.clone(),
                    held,
                    last,
                )));
            }
            None => {
                let started = Instant::now();
                replay.flush(&mut tx).await?;
                save_checkpoint(&mut tx, name, last.last().expect("not empty")).await?;
                tx.commit().await?;
                work.writing += started.elapsed();
            }
        }
    }
    if let Some(last) = writing {
        let (conn, busy) = last.await??;
        work.writing += busy;
        work.writing += flush_what_was_kept(conn, replay.as_mut(), name, &schema, last_fed).await?;
    }
    Ok(work)
}

/// Writes what a replay kept back from its hand-overs, once the last of them is written, with
/// the checkpoint of the last event it was fed; returns how long it took. A replay never
/// resumes from a checkpoint it wrote before this: its scratch schema is dropped if it fails.
async fn flush_what_was_kept(
    mut conn: PgConnection,
    replay: &mut (dyn Replay + '_),
    name: &'static str,
    schema: &str,
    last_fed: Option<Arc<Vec<StoredEvent>>>,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let last = last_fed.context("a replay handed over what it was never fed")?;
    let mut tx = begin_in_scratch(&mut conn, schema).await?;
    lock_checkpoint(&mut tx, name).await?;
    replay.flush(&mut tx).await?;
    save_checkpoint(&mut tx, name, last.last().expect("not empty")).await?;
    tx.commit().await?;
    Ok(started.elapsed())
}

/// A transaction on the scratch copies in `schema`. They need no flush of their own: a
/// verification drops them, and a rebuild's swap commits (and flushes the log) after them, or
/// leaves them unused.
async fn begin_in_scratch<'c>(
    conn: &'c mut PgConnection,
    schema: &str,
) -> anyhow::Result<sqlx::Transaction<'c, sqlx::Postgres>> {
    let mut tx = conn.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit TO off")
        .execute(&mut *tx)
        .await?;
    set_search_path(&mut tx, schema).await?;
    Ok(tx)
}

/// Writes what a replay handed over, with the checkpoint of the last event it had been fed,
/// in a transaction of its own; gives the connection back, and how long it was busy.
async fn write_apart(
    mut conn: PgConnection,
    name: &'static str,
    schema: String,
    held: Box<dyn HeldWrites>,
    fed: Arc<Vec<StoredEvent>>,
) -> anyhow::Result<(PgConnection, Duration)> {
    let started = Instant::now();
    let mut tx = begin_in_scratch(&mut conn, &schema).await?;
    lock_checkpoint(&mut tx, name).await?;
    held.write(&mut tx).await?;
    save_checkpoint(&mut tx, name, fed.last().expect("not empty")).await?;
    tx.commit().await?;
    Ok((conn, started.elapsed()))
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
    let deferred = create_scratch(pool, &schema, &borrowed).await?;
    let result = async {
        let mut differences = Vec::new();
        let started = Instant::now();
        // The indexes are built too, although the comparison needs none: the copies are then
        // whole, as a rebuild would swap them in, and a unique index that cannot be built fails
        // the check.
        let work = catch_up_together_in_schema(pool, projections, &schema, &deferred).await?;
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
