//! `--pg-stat-statements`: where the database's time goes, per statement, during one phase.
//! It is the SQL half of a profile (the other half, the server's own CPU, is taken with
//! callgrind), and costs a little, so it is off by default.

use sqlx::PgPool;

use crate::setup::Environment;
use crate::Args;

const TOP: i64 = 16;
/// Enough to see every statement a command runs once.
const TOP_CALLS: i64 = 32;

/// calls, total ms, mean ms, rows, plans, planning ms, the statement's start.
type Statement = (i64, f64, f64, i64, i64, f64, String);

pub struct Profile {
    pool: Option<PgPool>,
}

impl Profile {
    pub async fn new(args: &Args, env: &Environment) -> Self {
        if !args.pg_stat_statements {
            return Self { pool: None };
        }
        let pool = env.pool.clone();
        let created = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .execute(&pool)
            .await;
        if let Err(e) = created {
            eprintln!("pg_stat_statements unavailable (a private cluster loads it): {e}");
            return Self { pool: None };
        }
        let profile = Self { pool: Some(pool) };
        profile.reset().await;
        profile
    }

    pub async fn reset(&self) {
        if let Some(pool) = &self.pool {
            let _ = sqlx::query("SELECT pg_stat_statements_reset()")
                .execute(pool)
                .await;
        }
    }

    /// The top statements since the last reset, as lines to print.
    pub async fn take(&self, phase: &str) -> Option<String> {
        let pool = self.pool.as_ref()?;
        let by_time = self.top(pool, "2", TOP).await;
        // The same statements by number of calls: each call is a round trip between the
        // server and the database, whose fixed cost (two context switches, a protocol message
        // each way, a snapshot) does not show in the statements' own time.
        let by_calls = self.top(pool, "1", TOP_CALLS).await;
        let totals: Result<(Option<f64>, Option<i64>, Option<f64>), _> = sqlx::query_as(
            "SELECT sum(total_exec_time), sum(calls)::bigint, sum(total_plan_time)
               FROM pg_stat_statements
              WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .fetch_one(pool)
        .await;
        let (by_time, by_calls, (total, calls, planning)) = match (by_time, by_calls, totals) {
            (Ok(t), Ok(c), Ok(totals)) => (t, c, totals),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                return Some(format!("profile ({phase}): {e}"))
            }
        };
        let total = total.unwrap_or(0.0);
        let mut out = format!(
            "database time by statement during the {phase} (pg_stat_statements): {:.1} s in {} calls, \
             and {:.1} s planning them\n",
            total / 1000.0,
            calls.unwrap_or(0),
            planning.unwrap_or(0.0) / 1000.0,
        );
        out.push_str(&table(&by_time, total));
        out.push_str(&format!(
            "the same, by number of calls (round trips) during the {phase}\n"
        ));
        out.push_str(&table(&by_calls, total));
        Some(out)
    }

    /// The top statements, summed by text, ordered by column `order` (1: calls, 2: time).
    async fn top(
        &self,
        pool: &PgPool,
        order: &str,
        limit: i64,
    ) -> Result<Vec<Statement>, sqlx::Error> {
        sqlx::query_as(&format!(
            // Summed by statement text: with `--towns`, each town's schema gives the same
            // statement a query id of its own.
            "SELECT sum(calls)::bigint, sum(total_exec_time),
                    sum(total_exec_time) / greatest(sum(calls), 1), sum(rows)::bigint,
                    sum(plans)::bigint, sum(total_plan_time), left(statement, 120)
               FROM (SELECT calls, total_exec_time, rows, plans, total_plan_time,
                            regexp_replace(query, '\\s+', ' ', 'g') AS statement
                       FROM pg_stat_statements
                      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())) s
              GROUP BY statement
              ORDER BY {order} DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(pool)
        .await
    }
}

fn table(rows: &[Statement], total: f64) -> String {
    let mut out = format!(
        "{:>6} {:>9} {:>10} {:>9} {:>9} {:>8} {:>8}  statement\n",
        "share", "total s", "calls", "mean ms", "rows", "plans", "plan s",
    );
    for (calls, time, mean, rows, plans, planning, query) in rows {
        out.push_str(&format!(
            "{:>5.1}% {:>9.2} {:>10} {:>9.3} {:>9} {:>8} {:>8.2}  {}\n",
            100.0 * time / total.max(1e-9),
            time / 1000.0,
            calls,
            mean,
            rows,
            plans,
            planning / 1000.0,
            query
        ));
    }
    out
}
