//! The registry of towns (migration 0033) and the making of a town's schema and role.
//!
//! A town's rows are in its own schema, owned by its own role: the service connects for a town
//! as that role with only that schema on its search path, so a query that forgets to say which
//! town it means still reads that town's rows only, and one that names another town's table is
//! refused by PostgreSQL (`permission denied`).

use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TownRow {
    pub id: Uuid,
    pub host: String,
    pub schema_name: String,
    /// The role that owns the schema and that the service's connections for the town take.
    pub role_name: String,
    pub name: String,
}

pub async fn list(pool: &PgPool) -> sqlx::Result<Vec<TownRow>> {
    sqlx::query_as(
        "SELECT id, host, schema_name, role_name, name FROM public.towns ORDER BY created_at, host",
    )
    .fetch_all(pool)
    .await
}

pub async fn by_host(pool: &PgPool, host: &str) -> sqlx::Result<Option<TownRow>> {
    sqlx::query_as(
        "SELECT id, host, schema_name, role_name, name FROM public.towns WHERE host = $1",
    )
    .bind(host)
    .fetch_optional(pool)
    .await
}

/// Creates the town's role (without login: the service's own user switches to it) and its
/// schema owned by it. The service's user must be allowed to create roles.
pub async fn create_schema(pool: &PgPool, town: &TownRow) -> anyhow::Result<()> {
    let (schema, role) = (&town.schema_name, &town.role_name);
    anyhow::ensure!(
        valid_name(schema) && valid_name(role),
        "invalid town schema {schema:?} or role {role:?}"
    );
    let mut tx = pool.begin().await?;
    // The current user becomes a member of the role, to switch to it.
    sqlx::query(&format!("CREATE ROLE {role} NOLOGIN"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("GRANT {role} TO current_user"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA {schema} AUTHORIZATION {role}"))
        .execute(&mut *tx)
        .await?;
    // Rebuilds and audits replay into scratch schemas of their own, beside the town's.
    sqlx::query(&format!(
        "DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO {role}', current_database()); END $$"
    ))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The channel on which a town's registration is announced, at its commit: a running service
/// opens a town that another process (`cantine town add`) registered without a restart.
pub const REGISTRY_CHANNEL: &str = "cantine_towns";

pub async fn insert(pool: &PgPool, town: &TownRow) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO public.towns (id, host, schema_name, role_name, name) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(town.id)
    .bind(&town.host)
    .bind(&town.schema_name)
    .bind(&town.role_name)
    .bind(&town.name)
    .execute(&mut *tx)
    .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(REGISTRY_CHANNEL)
        .bind(&town.host)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// The name a town's connections carry: other towns' readers of the log recognise by it a
/// transaction that cannot append to their log (`migrations/0034_town_scoped_log.sql`).
pub const TOWN_APPLICATION_PREFIX: &str = "cantine-town:";

/// The options of a connection for one town: as its role, with its schema alone on the path,
/// under the town's connection name.
pub fn town_options(base: &PgConnectOptions, town: &TownRow) -> PgConnectOptions {
    base.clone()
        .options([
            ("role", town.role_name.as_str()),
            ("search_path", town.schema_name.as_str()),
        ])
        .application_name(&format!("{TOWN_APPLICATION_PREFIX}{}", town.schema_name))
}

/// A pool of connections for one town (see [`town_options`]).
pub fn town_pool(base: &PgPool, town: &TownRow, max_connections: u32) -> PgPool {
    super::pool_options(max_connections)
        .connect_lazy_with(town_options(&base.connect_options(), town))
}

fn valid_name(name: &str) -> bool {
    name.len() <= 63
        && name.len() > 5
        && name.starts_with("town_")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The names of the schema and the role of the town served on `host`.
pub fn names_for_host(host: &str) -> (String, String) {
    let mut name: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    name.truncate(40);
    let schema = format!("town_{name}");
    let suffix = &Uuid::new_v4().simple().to_string()[..8];
    let role = format!("{schema}_{suffix}");
    (schema, role)
}
