//! Where the database is: `DATABASE_URL`, or a private cluster under `CANTINE_DATA` that the
//! program starts itself (and that `cantine staff add` finds running, or starts for a moment).
//! Both come from the settings (`crate::config`), which hold their defaults.

use std::path::Path;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::db::embedded::{EmbeddedPostgres, StartOptions};

pub const DATABASE_NAME: &str = "cantine";

pub struct Database {
    pub url: String,
    /// The private cluster, when this process uses one; stopped on drop if it started it.
    pub embedded: Option<EmbeddedPostgres>,
}

/// The server at `database_url`, or (unset) the private cluster in `data_dir/pg`, started or
/// attached to, with its database created if missing.
pub async fn resolve(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Database> {
    if let Some(url) = database_url {
        return Ok(Database {
            url: url.to_string(),
            embedded: None,
        });
    }
    let dir = std::path::absolute(data_dir.join("pg"))?;
    tracing::info!(data = %dir.display(), "DATABASE_URL is unset: using the private PostgreSQL cluster");
    let embedded =
        tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&dir, StartOptions::default()))
            .await??;
    create_database_if_missing(&embedded.url("postgres"), DATABASE_NAME).await?;
    Ok(Database {
        url: embedded.url(DATABASE_NAME),
        embedded: Some(embedded),
    })
}

pub async fn create_database_if_missing(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let options: PgConnectOptions = admin_url.parse()?;
    let mut conn = options.connect().await?;
    let (exists,): (bool,) =
        sqlx::query_as("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(())
}
