//! The benchmark's own database and reference data: a private cluster (or `--database-url`),
//! a fresh database, the organisation, 6 restaurants with one prepaid school year each, and the
//! families planned from the seed. None of this is part of the measured figures.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};
use uuid::Uuid;

use cantine::app::accounts::credentials::hash_password;
use cantine::db;
use cantine::db::embedded::{EmbeddedPostgres, StartOptions};
use cantine::db::reference::NewPeriod;
use cantine::domain::period::{
    BookingCutoff, Closure, LocalTime, PaymentMode, PeriodRules, ServiceHours, Weekday,
};

use crate::Args;

/// The demo's six restaurants: the same names the product shows.
pub use cantine::app::demo::RESTAURANTS;
pub const FAMILY_PASSWORD: &str = "bench-family-password";
pub const ADMIN_LOGIN: &str = "bench-admin";
pub const ADMIN_PASSWORD: &str = "bench-admin-password";
pub const PAYMENT_SECRET: &str = "bench-payment-secret";
/// The bookings of school year 2025-2026 open on the morning of 1 July 2025 (08:00 Paris):
/// every day of the year is before its cut-off.
pub const CLOCK_START: &str = "2025-07-01T06:00:00Z";
/// The server's pool is 32 connections; two servers, the benchmark's pools and pgbench's
/// clients must fit.
const MAX_CONNECTIONS: u32 = 300;
/// With `--towns`, each town of each server adds its own pool (32) and its consumers' (3 for
/// each of 9), and the benchmark one small pool per town.
const CONNECTIONS_PER_TOWN: u32 = 70;

/// One town of the run: where the benchmark reads its data, and the host it is served on
/// (`None`: the single-town install, served on any host).
pub struct BenchTown {
    pub host: Option<String>,
    /// Its schema (`public` for the single-town install).
    pub schema: String,
    pub pool: PgPool,
}

/// The host of the town numbered `n` with `--towns`: under `.localhost`, resolved by the
/// benchmark's HTTP client to the loopback address.
pub fn town_host(n: usize) -> String {
    format!("ville-{n:02}.bench.localhost")
}

/// `base` (`http://127.0.0.1:port`) as the town's host name sees it.
pub fn town_url(base: &str, host: Option<&str>) -> String {
    match host {
        Some(host) => base.replacen("127.0.0.1", host, 1),
        None => base.to_string(),
    }
}

/// The database server and the benchmark's fresh database on it.
pub struct Environment {
    pub url: String,
    pub pool: PgPool,
    /// The towns of the run (one, on `pool`, without `--towns`); see [`create_towns`].
    pub towns: Vec<BenchTown>,
    cluster: Option<EmbeddedPostgres>,
    /// The temporary directory of the cluster, server logs and scripts.
    pub work_dir: PathBuf,
    /// When the benchmark created its database on someone else's server: dropped at the end.
    external: Option<(String, String)>,
}

impl Environment {
    pub async fn start(args: &Args) -> anyhow::Result<Self> {
        let work_dir = std::env::temp_dir().join(format!("cantine-bench-{}", std::process::id()));
        std::fs::create_dir_all(&work_dir)?;
        let (admin_url, cluster, name) = match &args.database_url {
            Some(url) => (
                url.clone(),
                None,
                format!("cantine_bench_{}", Uuid::new_v4().simple()),
            ),
            None => {
                let profile = args.pg_stat_statements;
                let max_connections = MAX_CONNECTIONS + CONNECTIONS_PER_TOWN * args.towns as u32;
                let dir = work_dir.join("pg");
                eprintln!("starting a private PostgreSQL cluster in {}", dir.display());
                let cluster = tokio::task::spawn_blocking(move || {
                    EmbeddedPostgres::start(
                        &dir,
                        StartOptions {
                            fast_unsafe: false,
                            max_connections: Some(max_connections),
                            settings: if profile {
                                vec![
                                    "shared_preload_libraries=pg_stat_statements".into(),
                                    // Planning is the database's work too, and a statement
                                    // planned at every call pays it each time.
                                    "pg_stat_statements.track_planning=on".into(),
                                ]
                            } else {
                                Vec::new()
                            },
                        },
                    )
                })
                .await??;
                (
                    cluster.url("postgres"),
                    Some(cluster),
                    "cantine_bench".into(),
                )
            }
        };
        let options: PgConnectOptions = admin_url.parse().context("--database-url")?;
        let mut conn = options.connect().await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\""))
            .execute(&mut conn)
            .await?;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let url = with_database(&admin_url, &name);
        let pool = db::connect(&url, 16).await?;
        db::migrate(&pool).await?;
        let external = args
            .database_url
            .as_ref()
            .filter(|_| !args.keep_database)
            .map(|admin| (admin.clone(), name.clone()));
        if args.keep_database {
            eprintln!("the database is kept at the end: {url}");
        }
        Ok(Self {
            url,
            towns: vec![BenchTown {
                host: None,
                schema: "public".into(),
                pool: pool.clone(),
            }],
            pool,
            cluster,
            work_dir,
            external,
        })
    }

    /// Closes the pool, drops an external database, stops the private cluster, removes the
    /// temporary directory.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        for town in &self.towns {
            town.pool.close().await;
        }
        self.pool.close().await;
        if let Some((admin, name)) = &self.external {
            let options: PgConnectOptions = admin.parse()?;
            let mut conn = options.connect().await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
        if let Some(cluster) = self.cluster {
            tokio::task::spawn_blocking(move || drop(cluster)).await?;
        }
        let _ = std::fs::remove_dir_all(&self.work_dir);
        Ok(())
    }
}

/// The same server's URL with another database name (query string kept).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let server = match base.rsplit_once('/') {
        Some((server, _)) if server.contains("//") && !server.ends_with('/') => server,
        _ => base,
    };
    format!("{server}/{database}{query}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// Every day of the school year (~140).
    WholeYear,
    /// All Mondays and Thursdays.
    MondaysThursdays,
}

#[derive(Clone, Debug)]
pub struct ChildPlan {
    pub id: Uuid,
    pub pattern: Pattern,
    /// False for the 10 % left unpaid: they expire.
    pub pays: bool,
    /// The 5 % who cancel a few days after paying.
    pub cancels: bool,
}

#[derive(Clone, Debug)]
pub struct FamilyPlan {
    pub id: Uuid,
    /// Its town's index in [`Reference::towns`].
    pub town: usize,
    pub login: String,
    pub restaurant: usize,
    pub children: Vec<ChildPlan>,
}

/// Who books what, drawn from the seed before anything runs.
pub fn plan(args: &Args) -> Vec<FamilyPlan> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    (0..args.families)
        .map(|n| {
            let children = (0..rng.gen_range(1..=3))
                .map(|_| {
                    let pays = rng.gen_bool(0.9);
                    ChildPlan {
                        id: Uuid::from_u128(rng.gen()),
                        pattern: if rng.gen_bool(0.5) {
                            Pattern::WholeYear
                        } else {
                            Pattern::MondaysThursdays
                        },
                        pays,
                        cancels: pays && rng.gen_bool(0.05 / 0.9),
                    }
                })
                .collect();
            FamilyPlan {
                id: Uuid::from_u128(rng.gen()),
                town: n % args.towns.max(1),
                login: format!("famille-{n:06}@bench.example"),
                restaurant: rng.gen_range(0..RESTAURANTS.len()),
                children,
            }
        })
        .collect()
}

#[derive(Clone, Debug)]
pub struct PeriodInfo {
    pub id: Uuid,
    pub restaurant: String,
    pub capacity: i32,
    pub children: usize,
    pub days: Vec<NaiveDate>,
}

/// One town's organisation and restaurants.
pub struct TownReference {
    pub host: Option<String>,
    pub organisation_id: Uuid,
    pub periods: Vec<PeriodInfo>,
}

pub struct Reference {
    pub towns: Vec<TownReference>,
    pub clock_start: DateTime<Utc>,
    pub unit_price: Decimal,
    pub families: Vec<FamilyPlan>,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// School year 2025-2026, zone C (Paris, Créteil, Montpellier, Toulouse, Versailles), as
/// published by the Ministry of Education, plus the public holidays.
pub fn school_year_rules() -> PeriodRules {
    let (from, to) = (date(2025, 9, 1), date(2026, 7, 3));
    let mut closures = vec![
        Closure {
            from: date(2025, 10, 18),
            to: date(2025, 11, 2),
            label: "Vacances de la Toussaint".into(),
        },
        Closure {
            from: date(2025, 12, 20),
            to: date(2026, 1, 4),
            label: "Vacances de Noël".into(),
        },
        Closure {
            from: date(2026, 2, 21),
            to: date(2026, 3, 8),
            label: "Vacances d'hiver (zone C)".into(),
        },
        Closure {
            from: date(2026, 4, 18),
            to: date(2026, 5, 3),
            label: "Vacances de printemps (zone C)".into(),
        },
        Closure {
            from: date(2026, 5, 14),
            to: date(2026, 5, 17),
            label: "Pont de l'Ascension".into(),
        },
    ];
    closures.extend(Closure::public_holidays(from, to));
    PeriodRules {
        from,
        to,
        opening_days: vec![Weekday::Mon, Weekday::Tue, Weekday::Thu, Weekday::Fri],
        closures,
        booking_cutoff: BookingCutoff::WeekdayOfPreviousWeek {
            weekday: Weekday::Tue,
            time: LocalTime::parse("09:30").expect("time"),
        },
        cancellation_cutoff: None,
        bookings_open_at: None,
    }
}

/// The towns of the run. With `--towns N` (N > 1): N towns made as the platform operator
/// makes them (`cantine town add`: a schema and a role each, migrated, the organisation and its
/// first administrator), each read through its own pool as its own role. Without: the
/// single-town install, in `public`.
pub async fn create_towns(env: &mut Environment, args: &Args) -> anyhow::Result<()> {
    if args.towns <= 1 {
        return Ok(());
    }
    let mut towns = Vec::with_capacity(args.towns);
    for n in 0..args.towns {
        let host = town_host(n);
        let row = cantine::app::towns::add(
            &env.pool,
            &cantine::app::towns::NewTown {
                host: host.clone(),
                name: format!("Ville {n:02}"),
                address: format!("{} place de la Mairie, 30220 AIGUES-MORTES", n + 1),
                admin_login: ADMIN_LOGIN.into(),
                admin_password: ADMIN_PASSWORD.into(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("adding the town {host}: {e:?}"))?;
        towns.push(BenchTown {
            host: Some(host),
            pool: cantine::app::towns::town_pool(&env.pool, &row, 4),
            schema: row.schema_name,
        });
    }
    env.towns = towns;
    Ok(())
}

/// Each town's organisation, its 6 restaurants and their periods. Capacity is per period
/// (per-day capacities arrive with issue 4): each restaurant gets room for all of its children,
/// except with `--tight`, where the first restaurant has room for 80 % of them, which its
/// Mondays and Thursdays (booked by every child) exceed and its Tuesdays and Fridays (about
/// half) do not.
pub async fn load_reference_data(env: &Environment, args: &Args) -> anyhow::Result<Reference> {
    let families = plan(args);
    let rules = school_year_rules();
    let days: Vec<NaiveDate> = rules.service_days().collect();
    let unit_price = Decimal::new(497, 2);
    let mut towns = Vec::with_capacity(env.towns.len());
    for (town_index, town) in env.towns.iter().enumerate() {
        let pool = &town.pool;
        // A town made by `town add` has its organisation already; the single-town install not.
        let organisation = db::reference::ensure_organisation(
            pool,
            "Communauté de communes Terre de Camargue",
            "26 Quai des Croisades, 30220 AIGUES-MORTES",
        )
        .await?;
        let mut periods = Vec::new();
        for (index, name) in RESTAURANTS.iter().enumerate() {
            let children: usize = families
                .iter()
                .filter(|f| f.town == town_index && f.restaurant == index)
                .map(|f| f.children.len())
                .sum();
            let capacity = if args.tight && index == 0 {
                (children * 4 / 5) as i32
            } else {
                children as i32 + 10
            };
            let restaurant =
                db::reference::insert_restaurant(pool, organisation.id, name, capacity).await?;
            let short = name.trim_start_matches("Restaurant Scolaire ");
            let id = db::reference::insert_period(
                pool,
                NewPeriod {
                    restaurant_id: restaurant,
                    activity: "CANTINE SCOLAIRE".into(),
                    label: format!("Restauration {short} 2025-2026"),
                    service: ServiceHours {
                        label: "REPAS".into(),
                        start: LocalTime::parse("12:00").expect("time"),
                        end: LocalTime::parse("13:00").expect("time"),
                    },
                    rules: rules.clone(),
                    payment: PaymentMode::Prepaid { hold_minutes: 60 },
                    unit_price,
                    capacity,
                },
            )
            .await?;
            periods.push(PeriodInfo {
                id,
                restaurant: name.to_string(),
                capacity,
                children,
                days: days.clone(),
            });
        }
        if town.host.is_none() {
            let hash = hash_password(ADMIN_PASSWORD)?;
            db::accounts::insert_user(
                pool,
                ADMIN_LOGIN,
                Some(&hash),
                cantine::domain::account::Role::Admin,
                None,
            )
            .await?;
        }
        towns.push(TownReference {
            host: town.host.clone(),
            organisation_id: organisation.id,
            periods,
        });
    }
    Ok(Reference {
        towns,
        clock_start: CLOCK_START.parse()?,
        unit_price,
        families,
    })
}

/// Families, children and family users, in bulk over SQL into each one's town (the admin API
/// would do the same rows; setup is not measured). One argon2 hash serves every family: same
/// password, same cost to verify at login.
pub async fn create_families(env: &Environment, reference: &Reference) -> anyhow::Result<()> {
    let hash = hash_password(FAMILY_PASSWORD)?;
    for (town_index, town) in reference.towns.iter().enumerate() {
        let pool = &env.towns[town_index].pool;
        let families: Vec<&FamilyPlan> = reference
            .families
            .iter()
            .filter(|f| f.town == town_index)
            .collect();
        for chunk in families.chunks(1000) {
            insert_families(pool, town.organisation_id, chunk, &hash).await?;
        }
    }
    Ok(())
}

async fn insert_families(
    pool: &PgPool,
    organisation_id: Uuid,
    chunk: &[&FamilyPlan],
    hash: &str,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let ids: Vec<Uuid> = chunk.iter().map(|f| f.id).collect();
    let names: Vec<String> = (0..chunk.len())
        .map(|i| format!("FAMILLE {}", chunk[i].login))
        .collect();
    sqlx::query(
        "INSERT INTO families (id, organisation_id, name)
         SELECT id, $1, name FROM unnest($2::uuid[], $3::text[]) AS f(id, name)",
    )
    .bind(organisation_id)
    .bind(&ids)
    .bind(&names)
    .execute(&mut *tx)
    .await?;
    let logins: Vec<String> = chunk.iter().map(|f| f.login.clone()).collect();
    let user_ids: Vec<Uuid> = chunk.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "INSERT INTO users (id, login, password_hash, role, family_id)
         SELECT id, login, $1, 'family', family_id
           FROM unnest($2::uuid[], $3::text[], $4::uuid[]) AS u(id, login, family_id)",
    )
    .bind(hash)
    .bind(&user_ids)
    .bind(&logins)
    .bind(&ids)
    .execute(&mut *tx)
    .await?;
    let mut child_ids = Vec::new();
    let mut child_families = Vec::new();
    let mut first_names = Vec::new();
    let mut options = Vec::new();
    for family in chunk {
        for (n, child) in family.children.iter().enumerate() {
            child_ids.push(child.id);
            child_families.push(family.id);
            first_names.push(format!("Enfant{}", n + 1));
            options.push(["standard", "vegetarian", "no_pork"][child.id.as_u128() as usize % 3]);
        }
    }
    sqlx::query(
        "INSERT INTO children (id, family_id, first_name, last_name, meal_option)
         SELECT id, family_id, first_name, 'BENCH', meal_option
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])
                AS c(id, family_id, first_name, meal_option)",
    )
    .bind(&child_ids)
    .bind(&child_families)
    .bind(&first_names)
    .bind(&options)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Waits (bounded) until every town's reservations projection has applied every committed
/// event.
pub async fn wait_caught_up(env: &Environment, limit: Duration) -> anyhow::Result<()> {
    for town in &env.towns {
        wait_projection_caught_up(&town.pool, limit).await?;
    }
    Ok(())
}

/// Waits (bounded) until the reservations projection has applied every committed event.
pub async fn wait_projection_caught_up(pool: &PgPool, limit: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let (behind,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (
                SELECT 1 FROM events e
                 WHERE NOT EXISTS (SELECT 1 FROM projection_checkpoints c
                                    WHERE c.name = 'reservations'
                                      AND (e.transaction_id, e.global_position)
                                          <= (c.last_transaction_id, c.last_position)))",
        )
        .fetch_one(pool)
        .await?;
        if !behind {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("the reservations projection did not catch up within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
