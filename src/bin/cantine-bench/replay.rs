//! Replay speed and the rebuild check: every projection rebuilt from zero into a scratch schema
//! by the service's own code (`projections::rebuild::verify`, which then compares every row
//! with the live tables at the same position of the log), the rebuild timed beside a plain
//! sequential read of the events table decoded into the same columns, the payload and metadata
//! parsed into JSON values (the least any reader of the log does with them; the reference of
//! every earlier round). The projector itself now reads them as text and parses each into the
//! types it needs; a read of the rows without parsing them is timed too, for information.

use std::time::{Duration, Instant};

use futures_util::TryStreamExt;

use cantine::projections;

use crate::setup::Environment;

pub struct Replay {
    pub events: i64,
    /// The replay from zero into every projection.
    pub rebuild: Duration,
    /// The row-by-row comparison with the live tables that follows it.
    pub comparison: Duration,
    pub sequential_read: Duration,
    /// The same read, the payloads and metadata left as text.
    pub text_read: Duration,
    /// Tables whose rebuilt rows differ from the live ones (empty: identical).
    pub differing: Vec<String>,
    /// Each projection's work in the rebuild (summed over the towns).
    pub work: Vec<projections::rebuild::ReplayWork>,
}

impl Replay {
    pub fn rebuild_rate(&self) -> f64 {
        self.events as f64 / self.rebuild.as_secs_f64().max(1e-9)
    }

    pub fn read_rate(&self) -> f64 {
        self.events as f64 / self.sequential_read.as_secs_f64().max(1e-9)
    }
}

/// Every town's log replayed in turn (one town: the install's); the times and counts are the
/// sums over the towns, and a difference names its town.
pub async fn measure(env: &Environment) -> anyhow::Result<Replay> {
    let mut total = Replay {
        events: 0,
        rebuild: Duration::ZERO,
        comparison: Duration::ZERO,
        sequential_read: Duration::ZERO,
        text_read: Duration::ZERO,
        differing: Vec::new(),
        work: Vec::new(),
    };
    for town in &env.towns {
        let replay = measure_town(&town.pool).await?;
        total.events += replay.events;
        total.rebuild += replay.rebuild;
        total.comparison += replay.comparison;
        total.sequential_read += replay.sequential_read;
        total.text_read += replay.text_read;
        for work in replay.work {
            match total
                .work
                .iter_mut()
                .find(|w| w.projection == work.projection)
            {
                Some(sum) => {
                    sum.feeding += work.feeding;
                    sum.writing += work.writing;
                }
                None => total.work.push(work),
            }
        }
        total
            .differing
            .extend(replay.differing.into_iter().map(|d| match &town.host {
                Some(host) => format!("{host} {d}"),
                None => d,
            }));
    }
    Ok(total)
}

async fn measure_town(pool: &sqlx::PgPool) -> anyhow::Result<Replay> {
    let (events,): (i64,) = sqlx::query_as("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?;

    let started = Instant::now();
    let mut rows = sqlx::query_as::<_, PlainRow>(
        "SELECT global_position, transaction_id::text AS transaction_id, aggregate_type, aggregate_id,
                sequence, event_type, event_version, payload, metadata, recorded_at
           FROM events e ORDER BY e.global_position",
    )
    .fetch(pool);
    let mut read = 0i64;
    while let Some(_row) = rows.try_next().await? {
        read += 1;
    }
    drop(rows);
    let sequential_read = started.elapsed();
    anyhow::ensure!(read == events, "read {read} events of {events}");

    let started = Instant::now();
    let mut rows = sqlx::query_as::<_, TextRow>(
        "SELECT global_position, transaction_id::text AS transaction_id, aggregate_type, aggregate_id,
                sequence, event_type, event_version, payload::text AS payload,
                metadata::text AS metadata, recorded_at
           FROM events e ORDER BY e.global_position",
    )
    .fetch(pool);
    let mut read = 0i64;
    while let Some(_row) = rows.try_next().await? {
        read += 1;
    }
    drop(rows);
    let text_read = started.elapsed();
    anyhow::ensure!(read == events, "read {read} events of {events}");

    let all = projections::all();
    let started = Instant::now();
    let verification = projections::rebuild::verify(pool, &all).await?;
    let rebuild = verification.replayed_in;
    let work = verification.work;
    let comparison = started.elapsed().saturating_sub(rebuild);
    let differing = verification
        .differences
        .into_iter()
        .filter(|d| d.differing_rows != 0)
        .map(|d| format!("{}: {} differing rows", d.table, d.differing_rows))
        .collect();
    Ok(Replay {
        events,
        rebuild,
        comparison,
        sequential_read,
        text_read,
        differing,
        work,
    })
}

/// An event row, its payload and metadata parsed into JSON values.
#[derive(sqlx::FromRow)]
#[allow(dead_code)]
struct PlainRow {
    transaction_id: String,
    global_position: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: serde_json::Value,
    metadata: serde_json::Value,
    recorded_at: chrono::DateTime<chrono::Utc>,
}

/// The same row, its payload and metadata as PostgreSQL's text.
#[derive(sqlx::FromRow)]
#[allow(dead_code)]
struct TextRow {
    transaction_id: String,
    global_position: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
    recorded_at: chrono::DateTime<chrono::Utc>,
}
