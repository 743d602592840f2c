//! The commit-safe horizon of every town's log from one look at the server's transactions.
//!
//! `commit_safe_horizon()` (migrations 0032 and 0034) scans every backend of the server
//! (`pg_stat_get_activity`) to tell which running transactions may still append to this log.
//! With twenty towns in one process that scan ran for each town, at each wake-up, over about 640
//! backends: most of the database's time in `cantine-bench --towns 20`. One reading here serves
//! every town of the process: the snapshot's running transactions grouped by their connection's
//! name, from which each town takes its own horizon as the SQL function would compute it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use sqlx::PgPool;

use super::projector::CONSUMER_APPLICATION;
use crate::db::towns::TOWN_APPLICATION_PREFIX;

/// The server's running transactions at one moment.
#[derive(Debug, Clone)]
pub struct Reading {
    /// When the reading began: a transaction id below a horizon read then had ended by then.
    pub at: Instant,
    /// The first transaction id not yet given out when the snapshot was taken.
    xmax: u64,
    /// The oldest running transaction of each connection name ("" for none, or for a
    /// transaction whose backend was not found: it holds every log back).
    oldest: Vec<(String, u64)>,
}

impl Reading {
    /// The horizon of the log whose own connections are named `own`: the oldest running
    /// transaction that may append to it (its own town's, or any connection that is neither a
    /// consumer's nor another town's), else every transaction id given out so far. Every event
    /// whose transaction id is below it is committed (or never will be).
    pub fn horizon_for(&self, own: &str) -> u64 {
        self.oldest
            .iter()
            .filter(|(application, _)| {
                application == own
                    || (application != CONSUMER_APPLICATION
                        && !application.starts_with(TOWN_APPLICATION_PREFIX))
            })
            .map(|(_, xid)| *xid)
            .fold(self.xmax, u64::min)
    }
}

/// A PostgreSQL server: its host (or socket folder) and port.
type Server = (String, u16);

/// The last reading of one PostgreSQL server, shared by every town this process serves on it.
#[derive(Debug, Default)]
pub struct Horizons {
    last: tokio::sync::Mutex<Option<Reading>>,
}

impl Horizons {
    /// The readings of the server `pool` connects to. Transaction ids and backends are the
    /// server's (every database of it), so towns on one server share them; towns on another
    /// server get their own.
    pub fn of_server(pool: &PgPool) -> Arc<Horizons> {
        static SERVERS: OnceLock<Mutex<HashMap<Server, Arc<Horizons>>>> = OnceLock::new();
        let options = pool.connect_options();
        let server = (options.get_host().to_string(), options.get_port());
        SERVERS
            .get_or_init(Mutex::default)
            .lock()
            .expect("the servers' horizons")
            .entry(server)
            .or_default()
            .clone()
    }

    /// A reading begun at or after `since`: the last one when it did, else a new one, read on
    /// `pool`. A reading begun after a projector woke tells it everything its own would have.
    pub async fn reading(&self, pool: &PgPool, since: Instant) -> anyhow::Result<Reading> {
        let mut last = self.last.lock().await;
        if let Some(reading) = last.as_ref().filter(|r| r.at >= since) {
            return Ok(reading.clone());
        }
        let at = Instant::now();
        // A LEFT JOIN: a running transaction whose backend is not listed holds every log back.
        let rows: Vec<(Option<String>, String)> = sqlx::query_as(
            "WITH snapshot AS MATERIALIZED (SELECT pg_current_snapshot() AS s)
             SELECT NULL::text, pg_snapshot_xmax(s)::text FROM snapshot
             UNION ALL
             SELECT coalesce(a.application_name, ''), min(running)::text
               FROM snapshot, pg_snapshot_xip(snapshot.s) running
               LEFT JOIN pg_stat_get_activity(NULL) a ON a.backend_xid = running::xid
              GROUP BY 1",
        )
        .fetch_all(pool)
        .await?;
        let mut xmax = None;
        let mut oldest = Vec::new();
        for (application, xid) in rows {
            let xid: u64 = xid.parse()?;
            match application {
                None => xmax = Some(xid),
                Some(application) => oldest.push((application, xid)),
            }
        }
        let reading = Reading {
            at,
            xmax: xmax.ok_or_else(|| anyhow::anyhow!("no snapshot read"))?,
            oldest,
        };
        *last = Some(reading.clone());
        Ok(reading)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_is_held_back_by_its_own_towns_and_unknown_transactions_only() {
        let reading = Reading {
            at: Instant::now(),
            xmax: 100,
            oldest: vec![
                ("cantine-consumer".into(), 10),
                ("cantine-town:town_b".into(), 20),
                ("cantine-town:town_a".into(), 60),
            ],
        };
        assert_eq!(reading.horizon_for("cantine-town:town_a"), 60);
        assert_eq!(reading.horizon_for("cantine-town:town_b"), 20);
        assert_eq!(reading.horizon_for("cantine-town:town_c"), 100);
        let mut with_operator = reading.clone();
        with_operator.oldest.push(("psql".into(), 40));
        with_operator.oldest.push((String::new(), 50));
        assert_eq!(with_operator.horizon_for("cantine-town:town_a"), 40);
        assert_eq!(with_operator.horizon_for("cantine-town:town_c"), 40);
        // A single-town install's connections have no town's name: they hold it back.
        assert_eq!(with_operator.horizon_for(""), 40);
    }
}
