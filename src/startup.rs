//! Starting the service from its [`Settings`]: the one path `cantine serve` and the tests'
//! `spawn_app` both take (zero2prod's `Application::build`), so that what the tests run is what
//! production runs. The other subcommands open the same database through [`open_database`].

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::app::{self, demo, Background, Cantine};
use crate::config::Settings;
use crate::db::server::{self as database, Database};
use crate::{db, web};

/// A service ready to serve: database resolved and migrated, organisation recorded, demo loaded
/// if wanted, background tasks running, listener bound.
pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    public_url: String,
    state: Cantine,
    background: Background,
    /// Holds the private cluster (when this process started it) until the service stops.
    database: Database,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let (pool, database) = open_database(&settings, settings.pool_size).await?;
        let organisation = db::reference::ensure_organisation(
            &pool,
            &settings.organisation,
            &settings.organisation_address,
        )
        .await?;
        let demo_now = settings.clock.unwrap_or_else(chrono::Utc::now);
        if settings.demo && demo::load_if_empty(&pool, &organisation, demo_now).await? {
            tracing::info!("demo data loaded");
        }
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let address = listener.local_addr()?;
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        let (state, background) = app::build(pool, &settings, public_url.clone()).await?;
        Ok(Self {
            listener,
            address,
            public_url,
            state,
            background,
            database,
        })
    }

    /// The address the listener is bound to (the port chosen when the settings said 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where users reach the service: `CANTINE_PUBLIC_URL`, or `http://<address>`.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn state(&self) -> &Cantine {
        &self.state
    }

    pub fn pool(&self) -> &PgPool {
        &self.state.pool
    }

    /// The background tasks, to stop them from elsewhere (a test dropping its app).
    pub fn background(&self) -> &Background {
        &self.background
    }

    /// Serves until `shutdown` completes, then stops the background tasks, closes the pool and
    /// stops the private cluster if this process started it.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let pool = self.state.pool.clone();
        web::serve(self.listener, web::router(self.state), shutdown).await?;
        tracing::info!("stopping");
        self.background.shutdown();
        pool.close().await;
        drop(self.database);
        Ok(())
    }
}

/// The database the settings name (or the private cluster), connected with this many
/// connections and migrated. Keep the [`Database`] as long as the pool: it holds the cluster.
pub async fn open_database(
    settings: &Settings,
    max_connections: u32,
) -> anyhow::Result<(PgPool, Database)> {
    let database = database::resolve(settings.database_url.as_deref(), &settings.data).await?;
    let pool = db::connect(&database.url, max_connections)
        .await
        .context("connecting to PostgreSQL")?;
    db::migrate(&pool).await.context("applying migrations")?;
    Ok((pool, database))
}
