//! `--wait-events`: what the database's busy connections are doing during the workload, sampled
//! from `pg_stat_activity` every few milliseconds. pg_stat_statements says how long a statement
//! took; this says whether that time was spent running, waiting for a row another transaction
//! holds (`Lock`), flushing the WAL at commit (`IO` / `LWLock`), or idle inside a transaction
//! while the server works between two statements.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::setup::Environment;
use crate::Args;

const EVERY: Duration = Duration::from_millis(10);
const TOP: usize = 16;

/// state, wait event type, wait event, the statement's start.
type Key = (String, String, String, String);
/// How many samples were taken, and how often each key was seen in them.
type Counts = (u64, HashMap<Key, u64>);

pub struct Sampler {
    running: Option<(oneshot::Sender<()>, JoinHandle<Counts>)>,
}

impl Sampler {
    pub async fn start(args: &Args, env: &Environment) -> anyhow::Result<Self> {
        if !args.wait_events {
            return Ok(Self { running: None });
        }
        let pool = cantine::db::connect(&env.url, 1).await?;
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let (mut samples, mut seen) = (0u64, HashMap::new());
            let mut ticks = tokio::time::interval(EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = ticks.tick() => {}
                }
                let Ok(rows) = sample(&pool).await else {
                    continue;
                };
                samples += 1;
                for key in rows {
                    *seen.entry(key).or_insert(0) += 1;
                }
            }
            pool.close().await;
            (samples, seen)
        });
        Ok(Self {
            running: Some((stop, task)),
        })
    }

    /// Stops sampling and answers the table to print.
    pub async fn take(self) -> Option<String> {
        let (stop, task) = self.running?;
        let _ = stop.send(());
        let (samples, seen) = task.await.ok()?;
        let busy: u64 = seen.values().sum();
        let mut rows: Vec<(Key, u64)> = seen.into_iter().collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.1));
        let mut out = format!(
            "what the busy connections were doing during the workload (pg_stat_activity every {} ms, \
             {samples} samples; on average {:.1} connections active or idle in a transaction)\n\
             {:>6} {:>6}  {:<20} {:<14} {:<22} statement\n",
            EVERY.as_millis(),
            busy as f64 / samples.max(1) as f64,
            "share",
            "avg",
            "state",
            "wait type",
            "wait event",
        );
        for ((state, kind, event, query), n) in rows.into_iter().take(TOP) {
            out.push_str(&format!(
                "{:>5.1}% {:>6.2}  {:<20} {:<14} {:<22} {}\n",
                100.0 * n as f64 / busy.max(1) as f64,
                n as f64 / samples.max(1) as f64,
                state,
                kind,
                event,
                query
            ));
        }
        Some(out)
    }
}

/// One look at every client connection that is running a statement or holding a transaction
/// open; a running one with no wait event is on a CPU (or waiting for one).
async fn sample(pool: &PgPool) -> sqlx::Result<Vec<Key>> {
    sqlx::query_as(
        "SELECT state, coalesce(wait_event_type, '-'), coalesce(wait_event, '-'),
                left(regexp_replace(query, '\\s+', ' ', 'g'), 70)
           FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
            AND state IN ('active', 'idle in transaction')",
    )
    .fetch_all(pool)
    .await
}
