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
    let pool = pool_options(max_connections).connect_with(options).await?;
    Ok(pool)
}

/// A connection idle for longer than this is tested before it is handed out.
pub const IDLE_BEFORE_TEST: Duration = Duration::from_secs(1);

/// The options of every pool of the service. sqlx tests each connection with a round trip
/// (a `Sync`) when it is handed out, on top of the one it makes when the connection comes
/// back: with a statement or two per checkout, that was a fifth of everything PostgreSQL sent
/// during the rush (104,000 of 485,000 messages at 2,000 families). Only a connection that has
/// sat idle for [`IDLE_BEFORE_TEST`] is tested now: one that answered a moment ago is alive,
/// and one that died while idle (a database restart, a backend terminated) is still found
/// out and replaced before any request sees it.
pub fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_BEFORE_TEST {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}
