//! Backups of the service's database, the private cluster's included: `pg_dump` (one consistent
//! snapshot, custom format) and `pg_restore` into an empty database, with the PostgreSQL
//! binaries the service already finds for its private cluster.

use std::path::Path;
use std::process::Command;

use anyhow::Context;
use sqlx::{ConnectOptions, Connection};

use super::embedded::EmbeddedPostgres;

/// Writes the whole database at `url` to `file`.
pub fn dump(url: &str, file: &Path) -> anyhow::Result<()> {
    let bin = EmbeddedPostgres::find_binaries()?;
    run(Command::new(bin.join("pg_dump"))
        .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
        .arg(file)
        .arg("--dbname")
        .arg(url))
    .context("pg_dump")
}

/// Refuses a database that already holds tables: a restore never mixes two services' data.
pub async fn ensure_empty(url: &str) -> anyhow::Result<()> {
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    let mut conn = options.connect().await?;
    let (tables,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    anyhow::ensure!(
        tables == 0,
        "the database is not empty ({tables} tables): restore only into an empty database"
    );
    Ok(())
}

/// Restores `file` into the (empty) database at `url`, all or nothing.
pub fn restore(url: &str, file: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(file.is_file(), "no backup file at {}", file.display());
    let bin = EmbeddedPostgres::find_binaries()?;
    run(Command::new(bin.join("pg_restore"))
        .args([
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
        ])
        .arg(url)
        .arg(file))
    .context("pg_restore")
}

/// Makes a restored log readable in this cluster. Events are read in commit-safe order by the
/// id of the transaction that appended them, and those ids belong to the cluster that wrote
/// them: in a fresh cluster they are "in the future", so no reader would ever see the events.
/// Each id is replaced by its rank (order kept exactly, so the audit chain and every
/// projection replay the same), after moving this cluster's transaction counter past the
/// number of ranks. The projections' checkpoints follow their events. The events themselves are
/// not edited: only the column that orders them in storage.
pub async fn renumber_transactions(url: &str) -> anyhow::Result<()> {
    let options: sqlx::postgres::PgConnectOptions = url.parse()?;
    let mut conn = options.connect().await?;
    let (transactions,): (i64,) =
        sqlx::query_as("SELECT count(DISTINCT transaction_id) FROM events")
            .fetch_one(&mut conn)
            .await?;
    // Ranks start at 3, the first normal transaction id.
    let needed = transactions + 4;
    loop {
        let (current,): (i64,) = sqlx::query_as("SELECT pg_current_xact_id()::text::bigint")
            .fetch_one(&mut conn)
            .await?;
        if current > needed {
            break;
        }
        // One transaction an iteration: each takes an id.
        let burn = (needed - current).min(100_000);
        sqlx::raw_sql(&format!(
            "DO $$ BEGIN FOR i IN 1..{burn} LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$"
        ))
        .execute(&mut conn)
        .await?;
    }
    let mut tx = conn.begin().await?;
    sqlx::raw_sql(
        "CREATE TEMP TABLE transaction_ranks ON COMMIT DROP AS
           SELECT transaction_id AS old,
                  ((dense_rank() OVER (ORDER BY transaction_id)) + 2)::text::xid8 AS new
             FROM (SELECT DISTINCT transaction_id FROM events) t;
         UPDATE events e SET transaction_id = r.new
           FROM transaction_ranks r WHERE e.transaction_id = r.old;
         UPDATE projection_checkpoints c SET last_transaction_id = r.new
           FROM transaction_ranks r WHERE c.last_transaction_id = r.old;",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    conn.close().await?;
    Ok(())
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let output = command.output()?;
    anyhow::ensure!(
        output.status.success(),
        "{}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}
