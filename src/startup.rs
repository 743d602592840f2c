//! Starting the service from its [`Settings`]: the one path `cantine serve` and the tests'
//! `spawn_app` both take (zero2prod's `Application::build`), so that what the tests run is what
//! production runs. The other subcommands open the same database through [`open_database`].

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::{self, demo, Background, Cantine};
use crate::config::Settings;
use crate::db::server::{self as database, Database};
use crate::{db, web};

/// A service ready to serve: database resolved and migrated, organisation recorded, demo loaded
/// if wanted, background tasks running, listener bound.
pub struct Application {
    listener: TcpListener,
    /// `CANTINE_METRICS_LISTEN`'s, serving only `GET /metrics`.
    metrics_listener: Option<TcpListener>,
    /// How long requests in flight may take to finish once a stop is asked.
    grace: Duration,
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
        let metrics_listener = match settings.metrics_listen {
            Some(metrics) => Some(
                TcpListener::bind(metrics)
                    .await
                    .with_context(|| format!("cannot listen on {metrics} for the metrics"))?,
            ),
            None => None,
        };
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        let (state, background) = app::build(pool, &settings, public_url.clone()).await?;
        Ok(Self {
            listener,
            metrics_listener,
            grace: Duration::from_secs(settings.shutdown_grace_seconds),
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

    /// The metrics listener's address, when the settings give one.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` completes; then accepts nothing more, lets the requests in flight
    /// finish (at most the grace period), lets the projectors commit their batch, stops the
    /// background tasks, closes the pool and stops the private cluster if this process started
    /// it.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let pool = self.state.pool.clone();
        let (stop, stopped) = watch::channel(false);
        let when_stopped = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        let metrics_server = self.metrics_listener.map(|listener| {
            tokio::spawn(web::serve_metrics(
                listener,
                self.state.clone(),
                when_stopped(stopped.clone()),
            ))
        });
        let server = web::serve(self.listener, web::router(self.state), async move {
            shutdown.await;
            tracing::info!("stop asked: no new connections; finishing the requests in flight");
            let _ = stop.send(true);
        });
        let grace = self.grace;
        let grace_over = async move {
            when_stopped(stopped).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            served = server => served?,
            _ = grace_over => tracing::warn!(
                seconds = grace.as_secs(),
                "requests still in flight after the grace period: stopping anyway"
            ),
        }
        if let Some(metrics_server) = metrics_server {
            metrics_server.abort();
        }
        tracing::info!("stopping the background tasks");
        self.background.stop().await;
        pool.close().await;
        drop(self.database);
        tracing::info!("stopped");
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
