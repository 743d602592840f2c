//! The physical ceiling: pgbench against the same PostgreSQL, at the same concurrency, running
//! the least SQL one command needs: in one transaction, read one aggregate's events and append
//! one event. It runs on a copy of the benchmark's own events (same rows, same sizes, same
//! indexes) in a scratch schema, so that the real log is left untouched.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use cantine::db::embedded::EmbeddedPostgres;

use crate::setup::Environment;

const SCHEMA: &str = "bench_ceiling";

pub struct Ceiling {
    pub tps: f64,
    pub clients: usize,
    pub seconds: u64,
    pub aggregates: i64,
    pub latency_ms: Option<f64>,
    pub failed: Option<String>,
}

fn pgbench() -> PathBuf {
    EmbeddedPostgres::find_binaries()
        .map(|dir| dir.join("pgbench"))
        .ok()
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("pgbench"))
}

pub async fn measure(env: &Environment, clients: usize, seconds: u64) -> anyhow::Result<Ceiling> {
    let pool = &env.pool;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        .execute(pool)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA {SCHEMA}"))
        .execute(pool)
        .await?;
    sqlx::query(&format!(
        "CREATE TABLE {SCHEMA}.events (LIKE public.events INCLUDING ALL)"
    ))
    .execute(pool)
    .await?;
    // Aggregates renumbered 1..N so that pgbench can draw one at random; every town's.
    let logs = env
        .towns
        .iter()
        .map(|t| format!("SELECT * FROM {}.events", t.schema))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    sqlx::query(&format!(
        "INSERT INTO {SCHEMA}.events
                (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         SELECT aggregate_type, dense_rank() OVER (ORDER BY aggregate_id)::text, sequence,
                event_type, event_version, payload, metadata
           FROM ({logs}) e WHERE aggregate_type = 'Reservation'"
    ))
    .execute(pool)
    .await?;
    sqlx::query(&format!("ANALYZE {SCHEMA}.events"))
        .execute(pool)
        .await?;
    let (aggregates,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(DISTINCT aggregate_id) FROM {SCHEMA}.events"
    ))
    .fetch_one(pool)
    .await?;
    anyhow::ensure!(aggregates > 0, "no events to run pgbench on");

    // The statements postgres-es runs: load the aggregate's events in order, append the next
    // one (the copy of its last event, so the row has a real size). A concurrent append to the
    // same aggregate loses on the primary key, as an optimistic-concurrency conflict would.
    let script = format!(
        "\\set id random(1, {aggregates})
BEGIN;
SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata
  FROM {SCHEMA}.events WHERE aggregate_type = 'Reservation' AND aggregate_id = :id::text
 ORDER BY sequence;
INSERT INTO {SCHEMA}.events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT aggregate_type, aggregate_id, sequence + 1, event_type, event_version, payload, metadata
  FROM {SCHEMA}.events WHERE aggregate_type = 'Reservation' AND aggregate_id = :id::text
 ORDER BY sequence DESC LIMIT 1
ON CONFLICT DO NOTHING;
END;
"
    );
    let script_path = env.work_dir.join("ceiling.sql");
    std::fs::write(&script_path, script)?;
    let threads = clients.min(
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
    );
    let mut command = tokio::process::Command::new(pgbench());
    command
        .args(["--no-vacuum", "--protocol=prepared"])
        .arg(format!("--client={clients}"))
        .arg(format!("--jobs={threads}"))
        .arg(format!("--time={seconds}"))
        .arg(format!("--file={}", script_path.display()))
        .arg(&env.url)
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(seconds + 120), command.output())
        .await
        .context("pgbench did not finish in time")?
        .context("running pgbench (Debian: apt-get install postgresql-client)")?;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    sqlx::query(&format!("DROP SCHEMA {SCHEMA} CASCADE"))
        .execute(pool)
        .await?;
    let tps = stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok());
    let latency_ms = stdout
        .lines()
        .find_map(|l| l.strip_prefix("latency average = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok());
    let failed = (!output.status.success() || tps.is_none()).then(|| {
        format!(
            "pgbench {}: {}",
            output.status,
            stderr.lines().last().unwrap_or("")
        )
    });
    Ok(Ceiling {
        tps: tps.unwrap_or(0.0),
        clients,
        seconds,
        aggregates,
        latency_ms,
        failed,
    })
}
