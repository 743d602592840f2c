//! Drives a projection from the event log.
//!
//! Order: events are read by (transaction_id, global_position), and only from transactions older
//! than every transaction still running that may append events (`commit_safe_horizon()`, see
//! `migrations/0032_commit_safe_horizon.sql`). A transaction that took its global positions
//! early but commits late can therefore never land behind the checkpoint. The consumers' own
//! transactions do not hold the horizon back: they run on the pool of [`consumer_pool`], whose
//! connections the horizon recognises and which never append; nor do other towns' transactions,
//! whose roles may not append to this town's log (`migrations/0034_town_scoped_log.sql`). The
//! projectors of one service share their readings of the log's heads
//! ([`ProjectionProgress::heads`]) and read a batch up to a safe head without computing the
//! horizon again.
//!
//! Durability: each batch's rows and the checkpoint are written in one transaction, so a crash
//! between batches loses nothing and applies nothing twice.
//!
//! One writer: the projector of each projection runs only while it holds a session advisory lock;
//! a second server's projector waits as a standby and takes over if the first one dies. Each
//! batch also holds its checkpoint ([`lock_checkpoint`]), which keeps rebuilds and audits
//! consistent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool, Row};
use tokio::task::JoinHandle;

use super::progress::BatchTimes;
use super::{ConsumerPlacement, Position, ProjectionProgress};

/// One row of the event log as stored (the audit chain hashes exactly this); projections read
/// the payload through `decode`, which upcasts it to the current version first.
///
/// The payload and metadata are PostgreSQL's own text of the `jsonb` columns, not parsed: each
/// consumer parses what it needs straight into its own types (a replay used to parse every
/// payload into a `serde_json::Value` tree once, then have every projection read its types out
/// of the tree; building and freeing the trees was most of its CPU), and the audit chain
/// derives its canonical form from the text ([`super::audit_chain::write_canonical_text`]).
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub position: Position,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// The `jsonb` payload as PostgreSQL writes it.
    pub payload: String,
    /// The `jsonb` metadata as PostgreSQL writes it.
    pub metadata: String,
    pub recorded_at: DateTime<Utc>,
}

/// An event row as SQL gives it, before its position is checked.
#[derive(sqlx::FromRow)]
struct EventRow {
    transaction_id: String,
    global_position: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
    recorded_at: DateTime<Utc>,
}

impl EventRow {
    fn into_event(self) -> anyhow::Result<StoredEvent> {
        Ok(StoredEvent {
            position: Position::parse(&self.transaction_id, self.global_position)?,
            aggregate_type: self.aggregate_type,
            aggregate_id: self.aggregate_id,
            sequence: self.sequence,
            event_type: self.event_type,
            event_version: self.event_version,
            payload: self.payload,
            metadata: self.metadata,
            recorded_at: self.recorded_at,
        })
    }
}

impl StoredEvent {
    /// The payload in the current shape of its event type: parsed from the text straight into
    /// `T` when it is current, through a `Value` and its upcasters otherwise.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> anyhow::Result<T> {
        if !crate::domain::upcasting::needs_upcast(&self.event_type, &self.event_version) {
            return Ok(serde_json::from_str(&self.payload)?);
        }
        Ok(T::deserialize(self.upcast_payload()?)?)
    }

    /// The payload parsed and upcast to the current shape of its event type.
    fn upcast_payload(&self) -> anyhow::Result<serde_json::Value> {
        let payload: serde_json::Value = serde_json::from_str(&self.payload)?;
        let (_, payload) =
            crate::domain::upcasting::upcast(&self.event_type, &self.event_version, payload)?;
        Ok(payload)
    }
}

#[async_trait]
pub trait Projection: Send + Sync {
    fn name(&self) -> &'static str;
    /// The tables this projection owns (rebuilt, swapped and compared together).
    fn tables(&self) -> &'static [&'static str];
    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()>;

    /// Applies a batch in order; a projection may do it in fewer statements.
    async fn apply_all(&self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
        for event in events {
            self.apply(tx, event).await?;
        }
        Ok(())
    }

    /// How a replay from zero feeds this projection (see [`Replay`]); by default, each batch is
    /// applied as it comes.
    fn replay(&self) -> Box<dyn Replay + '_> {
        Box::new(EachBatch(self))
    }

    /// Whether a live batch's commit must wait for its WAL flush. A projection's rows and
    /// checkpoint are derived from events that are already durable: if the database crashes
    /// before an unflushed batch reaches the disk, the whole batch is lost together and applied
    /// again from the log. Waiting for the flush bought nothing, and with nine consumers each
    /// committing once per batch it queued the disk in front of the commands' own commits. A
    /// consumer whose rows cause something outside the database (an e-mail sent) says so.
    fn commit_durably(&self) -> bool {
        false
    }

    /// The payloads this consumer reads when it runs live; `None`: all of them. Nine consumers
    /// read every batch of the log, and the largest payloads (a whole-year request: some 140
    /// days) were detoasted, converted to text and sent nine times, also to consumers that only
    /// look at a few event types. The others' payloads arrive empty (a replay reads them all).
    fn payloads(&self) -> Option<PayloadsOf> {
        None
    }

    /// When this consumer looks at the log as it runs live (see [`Pace`]).
    fn pace(&self) -> Pace {
        Pace::EveryWrite
    }
}

/// When a live consumer looks at the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// At every write, as soon as it is committed: the rush's own requests wait for it (the
    /// cart waits for its reservations), see [`drive`].
    EveryWrite,
    /// Every tick (`CANTINE_CONSUMER_TICK_MS`), and at once when a request waits for it
    /// (`Cantine::fresh`), see [`drive_on_demand`]. Its readers are pages off the rush's path
    /// (invoices, the ledger, the waiting lists); woken by every write, the three of them ran
    /// a batch each per commit, as many as the reservations, and their round trips queued on
    /// the same two cores in front of the commands and of the reservations' own batches.
    OnDemand,
    /// Every tick (`CANTINE_CONSUMER_TICK_MS`): no request waits for it (e-mails,
    /// promotions, the audit chain), see [`drive_on_tick`].
    Tick,
}

/// The aggregate types and event types whose payloads a consumer reads.
#[derive(Debug, Clone, Copy)]
pub struct PayloadsOf {
    pub aggregate_types: &'static [&'static str],
    pub event_types: &'static [&'static str],
}

/// A replay's writer: `feed` may hold what it derives in memory across batches, `flush` writes
/// it. A replay of the opening day rewrote every hot headcount row once per batch of 1,000
/// events; held across the whole log, it writes each once.
#[async_trait]
pub trait Replay: Send {
    async fn feed(&mut self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()>;
    /// Holds enough that it should be flushed before it is fed again.
    fn full(&self) -> bool {
        false
    }
    async fn flush(&mut self, tx: &mut PgConnection) -> anyhow::Result<()>;

    /// Whether its feeds only read, all its writes being what it holds: it can then
    /// [`hand_over`](Replay::hand_over) what it holds instead of flushing it.
    fn feeds_only_read(&self) -> bool {
        false
    }

    /// Takes what it holds, or part of it, for another connection to write while it is fed
    /// again. It answers its next feeds as if those writes were committed (they are, before the
    /// next hand-over's writes start). What it keeps is written by a last
    /// [`flush`](Replay::flush), after the last hand-over's writes. `None` for a replay whose
    /// feeds write.
    fn hand_over(&mut self) -> Option<Box<dyn HeldWrites>> {
        None
    }
}

/// What a replay held, handed over to be written apart (see [`Replay::hand_over`]).
#[async_trait]
pub trait HeldWrites: Send {
    async fn write(self: Box<Self>, tx: &mut PgConnection) -> anyhow::Result<()>;
}

struct EachBatch<'a, P: ?Sized>(&'a P);

#[async_trait]
impl<P: Projection + ?Sized> Replay for EachBatch<'_, P> {
    async fn feed(&mut self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
        self.0.apply_all(tx, events).await
    }

    async fn flush(&mut self, _tx: &mut PgConnection) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The application name of the consumers' connections; `commit_safe_horizon()` leaves their
/// transactions out, so it must never be given to a connection that appends events.
pub const CONSUMER_APPLICATION: &str = "cantine-consumer";

/// The pool the consumers run on, beside `pool` and to the same database. Its connections
/// live as long as the server: the horizon pairs a connection's name with its transaction id,
/// and a connection that never closes never hands its slot to one that appends.
pub fn consumer_pool(pool: &PgPool, max_connections: u32) -> PgPool {
    let options = (*pool.connect_options())
        .clone()
        .application_name(CONSUMER_APPLICATION);
    crate::db::pool_options(max_connections)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(options)
}

pub const BATCH: i64 = 1000;
const POLL: Duration = Duration::from_millis(500);
const STANDBY_RETRY: Duration = Duration::from_secs(2);

// Every ORDER BY names the table's column (`e.transaction_id`): an output column cast to text
// under the same name would otherwise be what is sorted, and "999" sorts after "1000".
// A NULL `$6` reads every payload; otherwise only those of the aggregate types in `$6` and the
// event types in `$7` (see `Projection::payloads`), the others arriving empty.
macro_rules! select_events {
    ($horizon:literal) => {
        concat!(
            "SELECT e.transaction_id::text AS transaction_id, e.global_position, e.aggregate_type,
                e.aggregate_id, e.sequence, e.event_type, e.event_version,
                CASE WHEN $6::text[] IS NULL OR e.aggregate_type = ANY($6::text[])
                          OR e.event_type = ANY($7::text[])
                     THEN e.payload::text ELSE '' END AS payload,
                e.metadata::text AS metadata, e.recorded_at
           FROM events e
          WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2)
            AND (e.transaction_id, e.global_position) <= ($3::text::xid8, $4) ",
            $horizon,
            " ORDER BY e.transaction_id, e.global_position
          LIMIT $5"
        )
    };
}

const SELECT_EVENTS: &str = select_events!("AND e.transaction_id < (SELECT commit_safe_horizon())");

/// The same, up to a position already known to be safe (a safe head read earlier): every event
/// up to it is committed, so the horizon (which looks at every backend of the database) is not
/// computed again for each batch.
const SELECT_EVENTS_UNTIL_SAFE: &str = select_events!("");

/// Reads up to `limit` safe events after `after`, not beyond `until`, with every payload.
pub async fn read_events(
    conn: &mut PgConnection,
    after: Position,
    until: Position,
    limit: i64,
) -> anyhow::Result<Vec<StoredEvent>> {
    read_events_with(conn, after, Until::Horizon(until), limit, None).await
}

/// How far a read of the log may go.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// Up to this position, and only what is safe to read now (the horizon computed by the read).
    Horizon(Position),
    /// Up to this position, read from a safe head: everything up to it is safe.
    Safe(Position),
}

impl From<Position> for Until {
    fn from(until: Position) -> Self {
        Until::Horizon(until)
    }
}

/// Like [`read_events`], with only the payloads `payloads` names (all of them for `None`).
pub async fn read_events_with(
    conn: &mut PgConnection,
    after: Position,
    until: Until,
    limit: i64,
    payloads: Option<PayloadsOf>,
) -> anyhow::Result<Vec<StoredEvent>> {
    let (aggregate_types, event_types) = match payloads {
        Some(of) => (Some(of.aggregate_types), of.event_types),
        None => (None, &[][..]),
    };
    let (sql, until) = match until {
        Until::Horizon(until) => (SELECT_EVENTS, until),
        Until::Safe(safe) => (SELECT_EVENTS_UNTIL_SAFE, safe),
    };
    let rows: Vec<EventRow> = sqlx::query_as(sql)
        .bind(after.xid_text())
        .bind(after.global_position)
        .bind(until.xid_text())
        .bind(until.global_position)
        .bind(limit)
        .bind(aggregate_types)
        .bind(event_types)
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(EventRow::into_event).collect()
}

/// Every safe event after `after`, in commit-safe order, as one query read as it arrives: a
/// replay decodes rows while the database still sends them.
pub fn stream_events(
    conn: &mut PgConnection,
    after: Position,
) -> impl futures_util::Stream<Item = anyhow::Result<StoredEvent>> + Send + '_ {
    use futures_util::StreamExt;
    sqlx::query_as::<_, EventRow>(SELECT_EVENTS)
        .bind(after.xid_text())
        .bind(after.global_position)
        .bind(Position::END.xid_text())
        .bind(Position::END.global_position)
        .bind(i64::MAX)
        .bind(None::<&[&str]>)
        .bind(&[][..] as &[&str])
        .fetch(conn)
        .map(|row| {
            row.map_err(anyhow::Error::from)
                .and_then(EventRow::into_event)
        })
}

/// The end of the log as far as it is safe to read now.
pub async fn safe_head(conn: &mut PgConnection) -> anyhow::Result<Position> {
    newest_event(
        conn,
        "WHERE e.transaction_id < (SELECT commit_safe_horizon())",
    )
    .await
}

/// The newest event whose transaction id is below `horizon`, a horizon read earlier
/// ([`super::horizon::Reading::horizon_for`]): every event up to it is committed. And the
/// newest event committed, as [`visible_head`]: both in one statement, since the projectors
/// read both at each wake-up and each statement is a round trip.
pub async fn heads_below(
    conn: &mut PgConnection,
    horizon: u64,
) -> anyhow::Result<(Position, Position)> {
    let (safe_tx, safe_pos, visible_tx, visible_pos): HeadsRow = sqlx::query_as(
        "SELECT s.transaction_id::text, s.global_position, v.transaction_id::text, v.global_position
           FROM (SELECT) one
           LEFT JOIN LATERAL (SELECT e.transaction_id, e.global_position FROM events e
                               WHERE e.transaction_id < $1::text::xid8
                               ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1) s ON true
           LEFT JOIN LATERAL (SELECT e.transaction_id, e.global_position FROM events e
                               ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1) v ON true",
    )
    .bind(horizon.to_string())
    .fetch_one(conn)
    .await?;
    let position = |tx: Option<String>, pos: Option<i64>| match (tx, pos) {
        (Some(tx), Some(pos)) => Position::parse(&tx, pos),
        _ => Ok(Position::START),
    };
    Ok((
        position(safe_tx, safe_pos)?,
        position(visible_tx, visible_pos)?,
    ))
}

/// The safe head's and the visible head's transaction and position, each absent on an empty log.
type HeadsRow = (Option<String>, Option<i64>, Option<String>, Option<i64>);

/// The newest event committed so far, safe to read or not yet.
pub async fn visible_head(conn: &mut PgConnection) -> anyhow::Result<Position> {
    newest_event(conn, "").await
}

/// The position of the newest event that `filter` keeps.
async fn newest_event(conn: &mut PgConnection, filter: &str) -> anyhow::Result<Position> {
    let sql = format!(
        "SELECT e.transaction_id::text, e.global_position FROM events e {filter}
          ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1"
    );
    match sqlx::query_as::<_, (String, i64)>(&sql)
        .fetch_optional(conn)
        .await?
    {
        Some((tx, pos)) => Position::parse(&tx, pos),
        None => Ok(Position::START),
    }
}

/// Reads the checkpoint of `name` in the current schema search path, and holds it for the rest of
/// the caller's transaction: a transaction-scoped advisory lock keyed by the checkpoint's schema
/// and name, which rebuilds and audits take too.
///
/// Not a row lock: `SELECT … FOR UPDATE` gives the transaction an xid at its first statement,
/// and a consumer that only reads for most of its batch (the notifications decide a batch's
/// e-mails before writing any) then held back every snapshot's xmin for the whole batch. With
/// an old xmin nothing could prune the dead versions of the headcount and place rows the rush
/// updates thousands of times a second: HOT updates fell from 98 % to 36 % of them, the tables
/// grew tenfold, and commands slowed by a quarter. An advisory lock needs no xid.
pub async fn lock_checkpoint(conn: &mut PgConnection, name: &str) -> anyhow::Result<Position> {
    // Sent as text in one message, the lock then the read: each statement of a simple query
    // takes its own snapshot, so the read sees what the previous holder committed. One round
    // trip for what was two in every batch.
    anyhow::ensure!(
        name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "a checkpoint's name is lowercase letters and underscores: {name:?}"
    );
    // `current_schema()` is the first schema of the search path: a scratch schema's checkpoints
    // are not the live ones. Its own key space, apart from the projectors' session locks.
    let sql = format!(
        "SELECT pg_advisory_xact_lock(hashtextextended('cantine-checkpoint:' || current_schema() || ':{name}', 0));
         SELECT last_transaction_id::text, last_position FROM projection_checkpoints WHERE name = '{name}'"
    );
    // A statement without parameters goes as a simple query, several statements included.
    let rows = sqlx::Executor::fetch_all(&mut *conn, sql.as_str()).await?;
    // The lock's own row has one column; the checkpoint's, two.
    if let Some(row) = rows.iter().find(|row| row.len() == 2) {
        return Position::parse(&row.try_get::<String, _>(0)?, row.try_get(1)?);
    }
    sqlx::query("INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    read_checkpoint(conn, name).await
}

pub async fn read_checkpoint(conn: &mut PgConnection, name: &str) -> anyhow::Result<Position> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT last_transaction_id::text, last_position FROM projection_checkpoints WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(conn)
    .await?;
    match row {
        Some((tx, pos)) => Position::parse(&tx, pos),
        None => Ok(Position::START),
    }
}

/// Applies, inside the caller's transaction, the next batch of events up to `until`.
/// Answers the new checkpoint and how many events were applied.
pub async fn apply_batch_in(
    tx: &mut PgConnection,
    projection: &dyn Projection,
    until: impl Into<Until>,
    limit: i64,
) -> anyhow::Result<(Position, usize)> {
    let (position, times) = apply_batch_timed(tx, projection, until.into(), limit).await?;
    Ok((position, times.events as usize))
}

/// [`apply_batch_in`], timed by phase (the commit is the caller's to time).
async fn apply_batch_timed(
    tx: &mut PgConnection,
    projection: &dyn Projection,
    until: Until,
    limit: i64,
) -> anyhow::Result<(Position, BatchTimes)> {
    let started = Instant::now();
    let checkpoint = lock_checkpoint(tx, projection.name()).await?;
    let events = read_events_with(tx, checkpoint, until, limit, projection.payloads()).await?;
    let read = Instant::now();
    let Some(last) = events.last() else {
        let times = BatchTimes {
            reading: read - started,
            ..BatchTimes::default()
        };
        return Ok((checkpoint, times));
    };
    let position = last.position;
    projection.apply_all(tx, &events).await?;
    let applied = Instant::now();
    save_checkpoint(tx, projection.name(), last).await?;
    let times = BatchTimes {
        batches: 1,
        events: events.len() as u64,
        waiting: Duration::ZERO,
        reading: read - started,
        applying: applied - read,
        committing: applied.elapsed(),
    };
    Ok((position, times))
}

/// Moves the checkpoint of `name` (locked by the caller) to `last`, the batch's last event.
pub async fn save_checkpoint(
    tx: &mut PgConnection,
    name: &str,
    last: &StoredEvent,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE projection_checkpoints
            SET last_transaction_id = $2::text::xid8, last_position = $3, last_recorded_at = $4
          WHERE name = $1",
    )
    .bind(name)
    .bind(last.position.xid_text())
    .bind(last.position.global_position)
    .bind(last.recorded_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Applies everything safe to read, one committed batch at a time. Answers the checkpoint
/// reached.
pub async fn catch_up(pool: &PgPool, projection: &dyn Projection) -> anyhow::Result<Position> {
    let (position, _) = catch_up_to(pool, projection, Until::Horizon(Position::END)).await?;
    Ok(position)
}

/// Applies everything up to `until`, one committed batch at a time. Answers the checkpoint
/// reached, and the batches' times.
async fn catch_up_to(
    pool: &PgPool,
    projection: &dyn Projection,
    until: Until,
) -> anyhow::Result<(Position, BatchTimes)> {
    let mut times = BatchTimes::default();
    loop {
        let started = Instant::now();
        // The commit mode travels with `BEGIN`, in its message. Nothing that can wait goes
        // there: a transaction cancelled while sqlx is still opening it is not rolled back.
        let mut tx = match projection.commit_durably() {
            true => pool.begin().await?,
            false => {
                pool.begin_with("BEGIN; SET LOCAL synchronous_commit TO off")
                    .await?
            }
        };
        let begun = started.elapsed();
        let (position, mut batch) = apply_batch_timed(&mut tx, projection, until, BATCH).await?;
        let committing = Instant::now();
        tx.commit().await?;
        batch.reading += begun;
        batch.committing += committing.elapsed();
        times += batch;
        if batch.events < BATCH as u64 {
            return Ok((position, times));
        }
    }
}

/// A live projector's `catch_up_to`, its batches counted in `progress`, their wait from `seen`
/// (when a reading of the heads first showed their events; `None`: not counted) to now.
async fn catch_up_counted(
    pool: &PgPool,
    projection: &dyn Projection,
    progress: &ProjectionProgress,
    until: Until,
    seen: Option<Instant>,
) -> anyhow::Result<Position> {
    let waiting = seen.map_or(Duration::ZERO, |seen| seen.elapsed());
    let (reached, mut times) = catch_up_to(pool, projection, until).await?;
    times.waiting = waiting;
    progress.record_batches(projection.name(), times);
    Ok(reached)
}

/// A projector's catch-up as it takes the lead: everything safe to read now, counted (events
/// written while it started are counted too).
async fn first_catch_up(
    pool: &PgPool,
    projection: &dyn Projection,
    progress: &ProjectionProgress,
) -> anyhow::Result<Position> {
    let _batch = progress.batch().await;
    let until = Until::Horizon(Position::END);
    catch_up_counted(pool, projection, progress, until, None).await
}

/// Like `catch_up`, into the projection's tables of another schema (rebuild, audit).
pub async fn catch_up_in_schema(
    pool: &PgPool,
    projection: &dyn Projection,
    schema: &str,
    until: Option<Position>,
) -> anyhow::Result<Position> {
    loop {
        let mut tx = pool.begin().await?;
        set_search_path(&mut tx, schema).await?;
        let (position, applied) =
            apply_batch_in(&mut tx, projection, until.unwrap_or(Position::END), BATCH).await?;
        tx.commit().await?;
        if applied < BATCH as usize {
            return Ok(position);
        }
    }
}

pub async fn set_search_path(conn: &mut PgConnection, schema: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "invalid schema name {schema}"
    );
    // Behind the scratch schema, the live one: `public`, or the town's.
    sqlx::query(&format!(
        "SELECT set_config('search_path', '{schema}, ' || current_schema(), true)"
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// The NOTIFY channel of the log the search path finds (`migrations/0034_town_scoped_log.sql`):
/// each town's projectors wake on their own town's commits only.
pub async fn events_channel(conn: &mut PgConnection) -> anyhow::Result<String> {
    let (channel,): (String,) =
        sqlx::query_as("SELECT 'cantine_events_' || 'events'::regclass::oid::text")
            .fetch_one(conn)
            .await?;
    Ok(channel)
}

/// The NOTIFY channel on which requests of any server ask for a projection of this log
/// (`progress::ProjectionProgress::wait_for`): the leader's projector may run on demand.
async fn demands_channel(conn: &mut PgConnection) -> anyhow::Result<String> {
    let (channel,): (String,) =
        sqlx::query_as("SELECT 'cantine_demands_' || 'events'::regclass::oid::text")
            .fetch_one(conn)
            .await?;
    Ok(channel)
}

/// A stable advisory-lock key per projection name.
fn lock_key(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("cantine-projection:{name}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("eight bytes"))
}

pub struct ProjectorHandle {
    task: JoinHandle<()>,
}

impl ProjectorHandle {
    pub fn abort(&self) {
        self.task.abort();
    }
}

/// Starts the projector of `projection`: standby until it holds the projection's lock, then
/// applies batches as its [`Pace`] says: whenever the log grows (NOTIFY from the database, a
/// nudge from this process, or a poll as fallback), or every `tick` (and on demand).
pub fn run_projector(
    pool: PgPool,
    projection: Arc<dyn Projection>,
    progress: Arc<ProjectionProgress>,
    placement: &ConsumerPlacement,
    tick: Duration,
) -> ProjectorHandle {
    if projection.pace() == Pace::OnDemand {
        progress.set_on_demand(projection.name());
    }
    let task = placement.spawn(async move {
        loop {
            if let Err(e) = lead(&pool, projection.as_ref(), &progress, tick).await {
                tracing::warn!(
                    projection = projection.name(),
                    error = format!("{e:#}"),
                    "projector stopped; restarting"
                );
            }
            progress.set_leader(projection.name(), false);
            tokio::time::sleep(STANDBY_RETRY).await;
        }
    });
    ProjectorHandle { task }
}

/// Wakes this service's projectors when any server commits events to the log: one `LISTEN`
/// connection for all of them, where each projector used to hold its own. Every commit then
/// woke six backends of PostgreSQL and six projectors, most often to find that this server's
/// own nudge ([`ProjectionProgress::record_write`]) had already brought them up to date. It
/// also hears the demands of other servers' requests waiting for a projection on a tick
/// ([`Pace::OnDemand`]) that this server may lead.
pub fn run_commit_listener(
    pool: PgPool,
    progress: Arc<ProjectionProgress>,
    placement: &ConsumerPlacement,
) -> ProjectorHandle {
    let task = placement.spawn(async move {
        loop {
            if let Err(e) = forward_commits(&pool, &progress).await {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "listening for the log's commits failed; listening again"
                );
            }
            // Commits may have gone unheard meanwhile.
            progress.record_write();
            tokio::time::sleep(STANDBY_RETRY).await;
        }
    });
    ProjectorHandle { task }
}

async fn forward_commits(pool: &PgPool, progress: &ProjectionProgress) -> anyhow::Result<()> {
    let (commits, demands) = {
        let mut conn = pool.acquire().await?;
        (
            events_channel(&mut conn).await?,
            demands_channel(&mut conn).await?,
        )
    };
    let mut listener = PgListener::connect_with(pool).await?;
    listener
        .listen_all([commits.as_str(), demands.as_str()])
        .await?;
    loop {
        match listener.try_recv().await? {
            Some(notification) if notification.channel() == demands => {
                match super::progress::parse_demand(notification.payload()) {
                    Some((name, target)) => progress.demand_by_name(name, target),
                    None => tracing::warn!(
                        payload = notification.payload(),
                        "a projection's demand not understood"
                    ),
                }
            }
            Some(_) => progress.record_write(),
            // The connection was lost and made again, and a commit or a demand may have gone
            // unheard: the projectors look at the log either way, those on demand at their
            // next tick.
            None => progress.record_write(),
        }
    }
}

async fn lead(
    pool: &PgPool,
    projection: &dyn Projection,
    progress: &ProjectionProgress,
    tick: Duration,
) -> anyhow::Result<()> {
    let mut lock_conn = pool.acquire().await?;
    // Advisory locks are the database's, not the schema's: each town's projector has its own.
    let (schema,): (String,) = sqlx::query_as("SELECT current_schema()")
        .fetch_one(&mut *lock_conn)
        .await?;
    let key = match schema.as_str() {
        "public" => lock_key(projection.name()),
        town => lock_key(&format!("{town}:{}", projection.name())),
    };
    loop {
        let (acquired,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *lock_conn)
            .await?;
        if acquired {
            break;
        }
        tokio::time::sleep(STANDBY_RETRY).await;
    }
    // Keep the lock's connection out of the pool for as long as we lead.
    let lock_conn = lock_conn.detach();
    tracing::info!(projection = projection.name(), "projector leads");
    progress.set_leader(projection.name(), true);
    let result = match projection.pace() {
        Pace::EveryWrite => drive(pool, projection, progress).await,
        Pace::OnDemand => drive_on_demand(pool, projection, progress, tick).await,
        Pace::Tick => drive_on_tick(pool, projection, progress, tick).await,
    };
    drop(lock_conn);
    result
}

/// Applies batches as the log grows, each as soon as the previous one is committed.
///
/// A projector on its own thread once started its batches at least 25 ms apart: while four
/// projectors followed every write, running each as soon as it was woken had taken nearly
/// twice as many smaller batches and 4-10 % of the commands. Alone at this pace (the others on
/// a tick, [`Pace`]), the reservations' projector lost a fifth of its lag p50 and kept its
/// p99 under 100 ms without the gap, the commands no slower (BENCHMARKS.md, seventeenth round).
async fn drive(
    pool: &PgPool,
    projection: &dyn Projection,
    progress: &ProjectionProgress,
) -> anyhow::Result<()> {
    // A lower bound of the stored checkpoint (a rebuild only moves it forward). Wake-ups are
    // checked against read-only heads first: a batch locks the checkpoint row, which makes its
    // transaction wait for a WAL flush, and every wake-up (each NOTIFY, each nudge, and every
    // 2 ms while committed events wait behind an older transaction) used to run one, mostly
    // empty; the opening-day replay counted 30,000 of them in 52 s.
    let mut position = first_catch_up(pool, projection, progress).await?;
    let mut woken = std::time::Instant::now();
    // When a reading of the heads first showed events this projector had not applied: the
    // batch's wait (behind an older transaction, or for the batch before it) counts from then.
    let mut seen: Option<std::time::Instant> = None;
    loop {
        progress.applied(projection.name(), position);
        let heads = progress.heads(pool, woken).await?;
        let (safe, visible) = (heads.safe, heads.visible);
        if safe > position || visible > position {
            seen.get_or_insert_with(Instant::now);
        }
        if safe > position {
            let _batch = progress.batch().await;
            woken = std::time::Instant::now();
            let seen = seen.take();
            let until = Until::Safe(safe);
            position = catch_up_counted(pool, projection, progress, until, seen).await?;
            continue;
        }
        let pending = visible > position;
        if pending {
            // Committed events wait behind an older transaction still running.
            tokio::time::sleep(Duration::from_millis(2)).await;
            woken = std::time::Instant::now();
            continue;
        }
        // Woken by this server's commands and, through the commit listener, by every other
        // server's.
        tokio::select! {
            _ = progress.nudged() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
        woken = std::time::Instant::now();
    }
}

/// Applies batches every `tick`, and at once when a request waits for the projection
/// (`ProjectionProgress::demand`): until it has passed what the request waits for, it follows
/// the log as [`drive`] does (events committed behind an older transaction included).
async fn drive_on_demand(
    pool: &PgPool,
    projection: &dyn Projection,
    progress: &ProjectionProgress,
    tick: Duration,
) -> anyhow::Result<()> {
    let name = projection.name();
    let demands = progress.demands(name);
    let mut position = first_catch_up(pool, projection, progress).await?;
    let mut woken = Instant::now();
    loop {
        progress.applied(name, position);
        let safe = progress.heads(pool, woken).await?.safe;
        if safe > position {
            let _batch = progress.batch().await;
            // Its wait is its tick's, or a request's that it answers at once: not counted.
            let until = Until::Safe(safe);
            position = catch_up_counted(pool, projection, progress, until, None).await?;
            continue;
        }
        if progress.demanded(name) > position {
            // What a request waits for is committed behind an older transaction still running.
            tokio::time::sleep(Duration::from_millis(2)).await;
            woken = Instant::now();
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = demands.notified() => {}
        }
        woken = Instant::now();
    }
}

/// A consumer that no request waits for looks at the log every `tick` instead of on every
/// write: the e-mails, the waiting lists' due days and the audit chain may follow a tenth of a
/// second behind, and the projections that requests wait for (the cart waits for its
/// reservations) no longer share each write's wake-up with them. With seven consumers all woken
/// by every command, the rush's projection lag had doubled.
async fn drive_on_tick(
    pool: &PgPool,
    projection: &dyn Projection,
    progress: &ProjectionProgress,
    tick: Duration,
) -> anyhow::Result<()> {
    let mut position = first_catch_up(pool, projection, progress).await?;
    loop {
        progress.applied(projection.name(), position);
        // Whatever was read while it slept is news to it.
        let looked = std::time::Instant::now();
        tokio::time::sleep(tick).await;
        let safe = progress.heads(pool, looked).await?.safe;
        if safe > position {
            let _batch = progress.batch().await;
            // Its wait is its tick's, by design: not counted.
            let until = Until::Safe(safe);
            position = catch_up_counted(pool, projection, progress, until, None).await?;
        }
    }
}
