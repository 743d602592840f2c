//! The storage side: connection, migrations, and the SQL behind the domain's services and the
//! reference data. Nothing here decides a business rule.

pub mod accounts;
pub mod audit_log;
pub mod audit_verifications;
pub mod backup;
pub mod capacities;
pub mod closures;
pub mod documents;
pub mod embedded;
pub mod expiry_due;
pub mod families;
pub mod finance;
pub mod headcounts;
pub mod idempotency;
pub mod invoices;
pub mod ledger;
pub mod mail_outbox;
pub mod mail_preferences;
pub mod operations;
pub mod payments;
pub mod place_repairs;
pub mod places;
pub mod reference;
pub mod reservation_reads;
pub mod reservation_services;
pub mod retention;
pub mod roll_call;
pub mod sepa;
pub mod server;
pub mod service_keys;
pub mod tariffs;
pub mod town;
pub mod towns;
pub mod waitlist;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url.parse()?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    Ok(pool)
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}
