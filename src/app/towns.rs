//! Towns on one install (issue 19): the platform operator's creation of a town with its first
//! administrator, and the demo's two towns. Each town's data lives in its own schema under its
//! own role (see `db::towns`); the service serves each on its host name.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use uuid::Uuid;

use crate::app::accounts::credentials::{hash_password, same_secret};
use crate::app::demo::{self, DemoTown};
use crate::app::{AppError, AppResult, Background, Cantine};
use crate::config::Settings;
use crate::db;
use crate::db::towns::TownRow;
use crate::domain::account::Role;

pub use crate::db::towns::{by_host, list, town_pool};

/// What `cantine town add` asks for.
#[derive(Debug, Clone)]
pub struct NewTown {
    pub host: String,
    pub name: String,
    pub address: String,
    pub admin_login: String,
    pub admin_password: String,
}

/// The first segments a town's path prefix may not take: what an install answers on any host.
pub const RESERVED_PREFIXES: &[&str] = &["api", "health", "ready", "metrics"];

/// A town's address as the registry keeps it: its host name (lower case, no port, no trailing
/// dot), followed, where one host serves several towns, by `/` and the town's path prefix
/// (`portail.example.fr/camargue`); or why not.
pub fn host_name(address: &str) -> AppResult<String> {
    let address = address.trim().trim_end_matches('/').to_ascii_lowercase();
    let (host, prefix) = match address.split_once('/') {
        Some((host, prefix)) => (host.trim_end_matches('.'), Some(prefix)),
        None => (address.trim_end_matches('.'), None),
    };
    let label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    let valid = !host.is_empty() && host.len() <= 253 && host.split('.').all(label);
    if !valid {
        return Err(AppError::rule(
            "invalid_host",
            format!(
                "{host:?} is not a host name (letters, digits, dashes and dots, like camargue.example.fr)"
            ),
        ));
    }
    match prefix {
        None => Ok(host.to_string()),
        Some(prefix) if label(prefix) && !RESERVED_PREFIXES.contains(&prefix) => {
            Ok(format!("{host}/{prefix}"))
        }
        Some(prefix) => Err(AppError::rule(
            "invalid_host",
            format!(
                "{prefix:?} cannot be a town's path prefix (one segment of letters, digits and dashes, like portail.example.fr/camargue; not {})",
                RESERVED_PREFIXES.join(", ")
            ),
        )),
    }
}

/// Whether a town on `address` would take requests from one already on `other`: the same
/// address, or a whole host and a prefix on it.
fn overlaps(address: &str, other: &str) -> bool {
    let host = |a: &str| a.split('/').next().unwrap_or_default().to_string();
    address == other
        || (host(address) == host(other) && (!address.contains('/') || !other.contains('/')))
}

/// Creates a town: its schema and role, migrated, its organisation, its first administrator,
/// and its host in the registry (last, so that a town half made is never served).
pub async fn add(pool: &PgPool, town: &NewTown) -> AppResult<TownRow> {
    let host = host_name(&town.host)?;
    let name = town.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::rule(
            "invalid_name",
            "a town needs a name (200 characters at most)",
        ));
    }
    if town.address.chars().count() > 300 {
        return Err(AppError::rule(
            "invalid_address",
            "the address has 300 characters at most",
        ));
    }
    if town.admin_password.chars().count() < 8 {
        return Err(AppError::rule(
            "password_too_short",
            "a password needs at least 8 characters",
        ));
    }
    let login = town.admin_login.trim();
    if login.is_empty() || login.chars().count() > 254 {
        return Err(AppError::rule(
            "invalid_login",
            "the first administrator needs a login (254 characters at most)",
        ));
    }
    let (schema_name, role_name) = db::towns::names_for_host(&host);
    let taken = list(pool)
        .await
        .map_err(anyhow::Error::from)?
        .into_iter()
        .any(|t| overlaps(&t.host, &host) || t.schema_name == schema_name);
    if taken {
        return Err(AppError::conflict(
            "town_exists",
            format!("a town is already served on {host} (or on that host's root, or under a name that makes the same schema)"),
        ));
    }
    let row = TownRow {
        id: Uuid::now_v7(),
        schema_name,
        role_name,
        host,
        name: name.to_string(),
    };
    let town_pool = prepare(pool, &row).await?;
    db::reference::ensure_organisation(&town_pool, name, &town.address)
        .await
        .map_err(anyhow::Error::from)?;
    db::accounts::insert_user(
        &town_pool,
        login,
        Some(&hash_password(&town.admin_password)?),
        Role::Admin,
        None,
    )
    .await
    .map_err(anyhow::Error::from)?;
    town_pool.close().await;
    db::towns::insert(pool, &row)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(row)
}

/// The town's schema made and migrated; answers a pool for it.
async fn prepare(pool: &PgPool, row: &TownRow) -> anyhow::Result<PgPool> {
    db::towns::create_schema(pool, row).await?;
    let town_pool = town_pool(pool, row, 2);
    db::migrate(&town_pool).await?;
    Ok(town_pool)
}

/// The demo's two towns, on a fresh install: each in its own schema, with its host name under
/// `.localhost` (which browsers and curl resolve to this machine).
pub async fn add_demo_towns(pool: &PgPool, now: DateTime<Utc>) -> anyhow::Result<Vec<TownRow>> {
    add_demo_towns_at(pool, now, |town| town.host().to_string()).await
}

/// The demo's two towns at the addresses `address_of` gives them (under path prefixes of one
/// host, for the browser walk of `e2e/towns.mjs prefixes`).
pub async fn add_demo_towns_at(
    pool: &PgPool,
    now: DateTime<Utc>,
    address_of: impl Fn(DemoTown) -> String,
) -> anyhow::Result<Vec<TownRow>> {
    let mut rows = Vec::new();
    for town in DemoTown::ALL {
        let (name, address) = town.identity();
        let host = address_of(town);
        let (schema_name, role_name) = db::towns::names_for_host(&host);
        let row = TownRow {
            id: Uuid::now_v7(),
            host,
            schema_name,
            role_name,
            name: name.to_string(),
        };
        let town_pool = prepare(pool, &row).await?;
        let organisation = db::reference::ensure_organisation(&town_pool, name, address).await?;
        demo::load_town(&town_pool, &organisation, town, now).await?;
        town_pool.close().await;
        db::towns::insert(pool, &row).await?;
        rows.push(row);
    }
    Ok(rows)
}

/// The platform operator's door to the registry: create towns, read nothing of theirs. A town
/// registered while the service runs, over HTTP or by `cantine town add` in another process, is
/// opened at once ([`Platform::open`]): its application built and its background tasks started
/// in this process, kept here to be stopped with the service.
#[derive(Clone)]
pub struct Platform {
    pool: PgPool,
    /// `None`: the platform's HTTP route is not served; the registry is still watched.
    token: Option<String>,
    settings: Arc<Settings>,
    public_url: String,
    opened: Arc<Mutex<Vec<(Cantine, Background)>>>,
}

impl Platform {
    /// `settings` and `public_url` are the service's, for the towns it opens.
    pub fn new(pool: PgPool, token: Option<&str>, settings: &Settings, public_url: &str) -> Self {
        Platform {
            pool,
            token: token.filter(|t| !t.is_empty()).map(str::to_string),
            settings: Arc::new(settings.clone()),
            public_url: public_url.to_string(),
            opened: Arc::default(),
        }
    }

    /// Whether the platform operator's route is served (a token is set).
    pub fn takes_requests(&self) -> bool {
        self.token.is_some()
    }

    /// Whether `given` is the platform's token.
    pub fn admits(&self, given: &str) -> bool {
        self.token
            .as_deref()
            .is_some_and(|token| same_secret(given, token))
    }

    /// The registered towns whose host is not in `served`.
    pub async fn unserved(&self, served: &[String]) -> anyhow::Result<Vec<TownRow>> {
        Ok(list(&self.pool)
            .await?
            .into_iter()
            .filter(|town| !served.contains(&town.host))
            .collect())
    }

    /// A listener woken at the commit of each town's registration, whichever process made it.
    pub async fn registrations(&self) -> anyhow::Result<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(db::towns::REGISTRY_CHANNEL).await?;
        Ok(listener)
    }

    /// Starts serving a town registered since the start: its application on its own pool (with
    /// this version's migrations), its projectors and jobs. Answers its application and where its
    /// users reach it.
    pub async fn open(&self, town: &TownRow) -> anyhow::Result<(Cantine, String)> {
        let (state, background, url) =
            open_town(&self.pool, town, &self.settings, &self.public_url).await?;
        self.opened
            .lock()
            .expect("the opened towns' lock")
            .push((state.clone(), background));
        tracing::info!(host = %town.host, "town served");
        Ok((state, url))
    }

    /// Stops the background tasks of the towns opened since the start and closes their pools.
    pub async fn stop_opened(&self) {
        let opened = std::mem::take(&mut *self.opened.lock().expect("the opened towns' lock"));
        for (state, background) in opened {
            background.stop().await;
            state.pool.close().await;
        }
    }

    pub async fn add_town(&self, town: &NewTown) -> AppResult<TownRow> {
        let row = add(&self.pool, town).await?;
        tracing::warn!(host = %row.host, name = %row.name, "town created by the platform operator");
        Ok(row)
    }
}

/// Starts a registered town in this process: its pool (as its role, on its schema) with this
/// version's migrations (a town added by an older version gets them), its application and its
/// background tasks. Answers them and where the town's users reach it.
pub async fn open_town(
    registry: &PgPool,
    town: &TownRow,
    settings: &Settings,
    public_url: &str,
) -> anyhow::Result<(Cantine, Background, String)> {
    let town_pool = town_pool(registry, town, settings.pool_size);
    db::migrate(&town_pool)
        .await
        .with_context(|| format!("applying migrations to {}", town.host))?;
    let url = town_url(public_url, &town.host);
    let (state, background) = crate::app::build(town_pool, settings, url.clone())
        .await
        .with_context(|| format!("starting the town served on {}", town.host))?;
    Ok((state, background, url))
}

/// Where the town served on `address` is reached: the service's public URL with the town's host
/// name (scheme, port and path kept), and the town's path prefix when it has one.
pub fn town_url(public_url: &str, address: &str) -> String {
    let (host, prefix) = match address.split_once('/') {
        Some((host, prefix)) => (host, format!("/{prefix}")),
        None => (address, String::new()),
    };
    let (scheme, rest) = public_url.split_once("://").unwrap_or(("http", public_url));
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = path.trim_end_matches('/');
    let port = authority
        .rsplit_once(':')
        .map(|(_, port)| port)
        .filter(|port| !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()));
    match port {
        Some(port) => format!("{scheme}://{host}:{port}{path}{prefix}"),
        None => format!("{scheme}://{host}{path}{prefix}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{host_name, overlaps};

    #[test]
    fn a_towns_address_is_a_host_and_at_most_one_prefix_segment() {
        assert_eq!(
            host_name(" Camargue.Example.FR. ").unwrap(),
            "camargue.example.fr"
        );
        assert_eq!(
            host_name("portail.example.fr/Camargue/").unwrap(),
            "portail.example.fr/camargue"
        );
        for refused in [
            "",
            "pas un hôte",
            "portail.example.fr/a/b",
            "portail.example.fr/api",
            "portail.example.fr/-x",
            "/camargue",
        ] {
            assert!(host_name(refused).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn a_whole_host_and_a_prefix_on_it_overlap_two_prefixes_do_not() {
        assert!(overlaps("p.fr", "p.fr"));
        assert!(overlaps("p.fr", "p.fr/a"));
        assert!(overlaps("p.fr/a", "p.fr"));
        assert!(overlaps("p.fr/a", "p.fr/a"));
        assert!(!overlaps("p.fr/a", "p.fr/b"));
        assert!(!overlaps("p.fr", "q.fr"));
    }
}
