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

use crate::app::{self, demo, towns, Background, Cantine};
use crate::config::Settings;
use crate::db::server::{self as database, Database};
use crate::{db, web};

/// A service ready to serve: database resolved and migrated, organisation recorded, demo loaded
/// if wanted, background tasks running, listener bound.
/// One town as this process serves it.
#[derive(Clone)]
pub struct Site {
    /// `None`: the single-town install, served on any host.
    pub host: Option<String>,
    pub name: String,
    pub public_url: String,
    pub state: Cantine,
    pub background: Background,
}

pub struct Application {
    listener: TcpListener,
    /// `CANTINE_METRICS_LISTEN`'s, serving only `GET /metrics`.
    metrics_listener: Option<TcpListener>,
    /// How long requests in flight may take to finish once a stop is asked.
    grace: Duration,
    address: SocketAddr,
    public_url: String,
    /// The registry's door, on an install serving several towns: towns registered while the
    /// service runs, and the platform operator's route when a token is set.
    platform: Option<towns::Platform>,
    /// The towns served: one without a host name on a single-town install, else each
    /// registered town on its own.
    sites: Vec<Site>,
    /// Holds the private cluster (when this process started it) until the service stops.
    database: Database,
}

impl Application {
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        let (pool, database) = open_database(&settings, settings.pool_size).await?;
        let demo_now = settings.clock.unwrap_or_else(chrono::Utc::now);
        let mut registered = towns::list(&pool).await?;
        // A fresh install's demo is the two towns of the guides, each on its host name.
        if registered.is_empty() && settings.demo && demo::fresh(&pool).await? {
            registered = towns::add_demo_towns(&pool, demo_now).await?;
            tracing::info!("demo towns created");
        }
        // On their own thread, a town's projectors halve its projection lag; twenty towns' on
        // threads of their own cost a fifth of the commands (BENCHMARKS.md, fifteenth round).
        settings
            .projector_threads
            .get_or_insert(usize::from(registered.is_empty()));
        if registered.is_empty() {
            let organisation = db::reference::ensure_organisation(
                &pool,
                &settings.organisation,
                &settings.organisation_address,
            )
            .await?;
            if settings.demo && demo::load_if_empty(&pool, &organisation, demo_now).await? {
                tracing::info!("demo data loaded");
            }
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
        let mut sites = Vec::new();
        let mut platform = None;
        if registered.is_empty() {
            let (state, background) = app::build(pool, &settings, public_url.clone()).await?;
            sites.push(Site {
                host: None,
                name: state.organisation.name.clone(),
                public_url: public_url.clone(),
                state,
                background,
            });
        } else {
            for town in registered {
                let (state, background, url) =
                    towns::open_town(&pool, &town, &settings, &public_url).await?;
                sites.push(Site {
                    host: Some(town.host),
                    name: town.name,
                    public_url: url,
                    state,
                    background,
                });
            }
            // The registry's connections watch for new towns and serve the platform operator:
            // the towns have their own.
            platform = Some(towns::Platform::new(
                pool.clone(),
                settings.platform_token.as_deref(),
                &settings,
                &public_url,
            ));
        }
        Ok(Self {
            listener,
            metrics_listener,
            grace: Duration::from_secs(settings.shutdown_grace_seconds),
            address,
            public_url,
            platform,
            sites,
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

    /// The first (on a single-town install, the only) town's application.
    pub fn state(&self) -> &Cantine {
        &self.sites[0].state
    }

    pub fn pool(&self) -> &PgPool {
        &self.sites[0].state.pool
    }

    /// The first town's background tasks, to stop them from elsewhere (a test dropping its app).
    pub fn background(&self) -> &Background {
        &self.sites[0].background
    }

    /// Every town served, with its host name (none on a single-town install).
    pub fn sites(&self) -> &[Site] {
        &self.sites
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
        let (stop, stopped) = watch::channel(false);
        let when_stopped = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        let metrics_server = self.metrics_listener.map(|listener| {
            tokio::spawn(web::serve_metrics(
                listener,
                self.sites[0].state.clone(),
                when_stopped(stopped.clone()),
            ))
        });
        let mut registry_watcher = None;
        let router = match (self.sites.as_slice(), &self.platform) {
            ([single], _) if single.host.is_none() => web::router(single.state.clone()),
            (sites, Some(platform)) => {
                let towns = web::towns::Towns::new(
                    platform.clone(),
                    sites
                        .iter()
                        .map(|site| web::towns::TownSite {
                            host: site.host.clone().unwrap_or_default(),
                            name: site.name.clone(),
                            public_url: site.public_url.clone(),
                            router: web::router(site.state.clone()),
                        })
                        .collect(),
                );
                registry_watcher = Some(tokio::spawn(
                    towns.clone().watch_registry(when_stopped(stopped.clone())),
                ));
                towns.router()
            }
            (_, None) => anyhow::bail!("several towns served without their registry"),
        };
        let server = web::serve(self.listener, router, async move {
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
        if let Some(watcher) = registry_watcher {
            // Ends at the stop: no town is opened after its tasks are stopped.
            let _ = watcher.await;
        }
        tracing::info!("stopping the background tasks");
        for site in &self.sites {
            site.background.stop().await;
        }
        if let Some(platform) = &self.platform {
            platform.stop_opened().await;
        }
        for site in &self.sites {
            site.state.pool.close().await;
        }
        drop(self.database);
        tracing::info!("stopped");
        Ok(())
    }
}

pub use crate::app::towns::town_url;

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
    let Some(host) = settings.town.as_deref() else {
        return Ok((pool, database));
    };
    let host = towns::host_name(host)?;
    let town = towns::by_host(&pool, &host)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no town is served on {host}"))?;
    let town_pool = towns::town_pool(&pool, &town, max_connections);
    db::migrate(&town_pool)
        .await
        .with_context(|| format!("applying migrations to {host}"))?;
    pool.close().await;
    Ok((town_pool, database))
}

#[cfg(test)]
mod tests {
    use super::town_url;

    #[test]
    fn a_town_is_reached_on_its_host_with_the_services_scheme_and_port() {
        assert_eq!(
            town_url("http://127.0.0.1:8080", "camargue.localhost"),
            "http://camargue.localhost:8080"
        );
        assert_eq!(
            town_url(
                "https://portail.example.fr/cantine",
                "carcassonne.example.fr"
            ),
            "https://carcassonne.example.fr/cantine"
        );
        assert_eq!(
            town_url("http://[::1]:3000", "a.localhost"),
            "http://a.localhost:3000"
        );
        assert_eq!(
            town_url("http://127.0.0.1:8080/", "portail.localhost/camargue"),
            "http://portail.localhost:8080/camargue"
        );
    }
}
