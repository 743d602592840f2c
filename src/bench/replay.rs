//! Replay speed and the rebuild check: every projection (today: the reservations read model)
//! rebuilt from zero into a scratch schema by the service's own projector code, timed beside a
//! plain sequential read of the events table, then compared with the live tables.
//!
//! The scratch schema holds empty copies of the projection's tables and of the checkpoints; a
//! pool whose `search_path` starts with it makes the projector write there while it reads the
//! real `events` table.

use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use cantine::projections::reservations::ReservationsProjection;
use cantine::projections::{catch_up, StoredEvent};

use crate::setup::Environment;

const SCHEMA: &str = "bench_rebuild";
/// The projection's tables and the order that makes their dumps comparable.
const TABLES: [(&str, &str); 2] = [
    ("reservation_view", "id"),
    ("reservation_day_view", "reservation_id, date"),
];

pub struct Replay {
    pub events: i64,
    pub rebuild: Duration,
    pub sequential_read: Duration,
    /// Tables whose rebuilt rows differ from the live ones (empty: identical).
    pub differing: Vec<String>,
}

impl Replay {
    pub fn rebuild_rate(&self) -> f64 {
        self.events as f64 / self.rebuild.as_secs_f64().max(1e-9)
    }

    pub fn read_rate(&self) -> f64 {
        self.events as f64 / self.sequential_read.as_secs_f64().max(1e-9)
    }
}

pub async fn measure(env: &Environment) -> anyhow::Result<Replay> {
    let pool = &env.pool;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        .execute(pool)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA {SCHEMA}"))
        .execute(pool)
        .await?;
    for table in [
        "projection_checkpoints",
        "reservation_view",
        "reservation_day_view",
    ] {
        sqlx::query(&format!(
            "CREATE TABLE {SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL)"
        ))
        .execute(pool)
        .await?;
    }
    let (events,): (i64,) = sqlx::query_as("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?;

    // A plain sequential read, decoded into the same rows the projector reads.
    let started = Instant::now();
    let mut rows = sqlx::query_as::<_, StoredEvent>(
        "SELECT global_position, transaction_id::text AS transaction_id, aggregate_type, aggregate_id,
                sequence, event_type, event_version, payload, metadata, recorded_at
           FROM events ORDER BY global_position",
    )
    .fetch(pool);
    let mut read = 0i64;
    while let Some(_row) = rows.try_next().await? {
        read += 1;
    }
    drop(rows);
    let sequential_read = started.elapsed();
    anyhow::ensure!(read == events, "read {read} events of {events}");

    let options: PgConnectOptions = env.url.parse()?;
    let scratch: PgPool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.options([("search_path", format!("{SCHEMA},public"))]))
        .await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(600);
    while !catch_up(&scratch, &ReservationsProjection).await? {
        anyhow::ensure!(Instant::now() < deadline, "the rebuild did not finish");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let rebuild = started.elapsed();
    scratch.close().await;

    let mut differing = Vec::new();
    for (table, order) in TABLES {
        let digest = |schema: &str| {
            format!(
                "SELECT count(*), md5(string_agg(t::text, E'\\n' ORDER BY {order}))
                   FROM {schema}.{table} t"
            )
        };
        let live: (i64, Option<String>) = sqlx::query_as(&digest("public")).fetch_one(pool).await?;
        let rebuilt: (i64, Option<String>) =
            sqlx::query_as(&digest(SCHEMA)).fetch_one(pool).await?;
        if live != rebuilt {
            differing.push(format!(
                "{table}: {} live rows, {} rebuilt, digests {} / {}",
                live.0,
                rebuilt.0,
                live.1.unwrap_or_default(),
                rebuilt.1.unwrap_or_default()
            ));
        }
    }
    sqlx::query(&format!("DROP SCHEMA {SCHEMA} CASCADE"))
        .execute(pool)
        .await?;
    Ok(Replay {
        events,
        rebuild,
        sequential_read,
        differing,
    })
}
