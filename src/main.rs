use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};

use cantine::app::accounts::credentials::hash_password;
use cantine::app::demo;
use cantine::app::mail::Mailer;
use cantine::app::{self, SecuritySettings, Settings};
use cantine::db::{audit_log as audit, server as database};
use cantine::domain::account::Role;
use cantine::{db, projections, telemetry, web};

#[derive(Parser)]
#[command(
    name = "cantine",
    about = "School-canteen booking service (portail famille)",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Starts the HTTP service (and, without DATABASE_URL, its private PostgreSQL).
    Serve,
    /// Staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Applies the database migrations and exits.
    Migrate,
    /// Projections: rebuild from the event log.
    Projections {
        #[command(subcommand)]
        command: ProjectionsCommand,
    },
    /// The audit trail: verify it, export it.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Invoices.
    Invoices {
        #[command(subcommand)]
        command: InvoicesCommand,
    },
    /// Family accounts.
    Families {
        #[command(subcommand)]
        command: FamiliesCommand,
    },
}

#[derive(Subcommand)]
enum ProjectionsCommand {
    /// Rebuilds one projection (or all) from zero; the service keeps serving the old rows until
    /// the new ones are complete.
    Rebuild { name: Option<String> },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Checks the audit chain against the events, then replays the whole log into a scratch
    /// schema and compares every projection row by row with the live one. Exits 1 on any
    /// difference.
    Verify,
    /// Writes the event log (with each event's chain hash) as JSON Lines.
    Export {
        #[arg(long)]
        output: std::path::PathBuf,
        /// Only events after this position.
        #[arg(long, default_value_t = 0)]
        after: i64,
    },
}

#[derive(Subcommand)]
enum InvoicesCommand {
    /// Issues the billed-later invoices of a month (YYYY-MM); running it again issues none.
    Issue {
        #[arg(long)]
        month: String,
    },
}

#[derive(Subcommand)]
enum FamiliesCommand {
    /// Anonymises the families gone for N years (no login, no meal day, nothing open), keeping
    /// invoices, payments and the event log (see src/db/retention.rs).
    Anonymise {
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
        gone_for_years: u32,
        /// Lists the families without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Creates a staff user.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        password: String,
        #[arg(long, value_enum)]
        role: Role,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve => serve().await,
        Command::Migrate => {
            let database = database::resolve().await?;
            let pool = db::connect(&database.url, 2).await?;
            db::migrate(&pool).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Projections {
            command: ProjectionsCommand::Rebuild { name },
        } => {
            let (pool, _database) = open().await?;
            let selected = match name {
                Some(name) => vec![projections::by_name(&name).ok_or_else(|| {
                    let names: Vec<_> = projections::all().iter().map(|p| p.name()).collect();
                    anyhow::anyhow!("no projection named {name:?}; they are {names:?}")
                })?],
                None => projections::all(),
            };
            for projection in selected {
                let report = projections::rebuild::rebuild(&pool, projection).await?;
                let seconds = report.elapsed.as_secs_f64();
                println!(
                    "{}: rebuilt from {} events in {:.2} s ({:.0} events/s)",
                    report.projection,
                    report.events,
                    seconds,
                    report.events as f64 / seconds.max(1e-9)
                );
            }
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let (pool, _database) = open().await?;
            let chain = audit::verify_chain(&pool).await?;
            println!("audit chain: {} events checked", chain.checked);
            for (what, positions) in [
                ("changed", &chain.changed),
                ("removed", &chain.removed),
                ("inserted", &chain.inserted),
            ] {
                if !positions.is_empty() {
                    println!("  {what} events at positions {positions:?}");
                }
            }
            let all = projections::all();
            let differences = projections::rebuild::verify(&pool, &all).await?.differences;
            let mut total = 0;
            for difference in &differences {
                println!(
                    "  {:<22} {} differing rows",
                    difference.table, difference.differing_rows
                );
                total += difference.differing_rows;
            }
            println!("differing rows: {total}");
            if total != 0 || !chain.intact() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Export { output, after },
        } => {
            let (pool, _database) = open().await?;
            let mut file = std::io::BufWriter::new(std::fs::File::create(&output)?);
            let mut position = after;
            let mut count = 0;
            loop {
                let events = audit::events(&pool, position, 5000, None).await?;
                let Some(last) = events.last() else { break };
                position = last.position;
                for event in &events {
                    serde_json::to_writer(&mut file, event)?;
                    std::io::Write::write_all(&mut file, b"\n")?;
                }
                count += events.len();
            }
            std::io::Write::flush(&mut file)?;
            println!("{count} events written to {}", output.display());
            Ok(())
        }
        Command::Invoices {
            command: InvoicesCommand::Issue { month },
        } => {
            let (pool, _database) = open().await?;
            let organisation = db::reference::organisation(&pool)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organisation yet: start the service once"))?;
            // The billed days come from the reservations projection: bring it up to date first.
            projections::projector::catch_up(
                &pool,
                &projections::reservations::ReservationsProjection,
            )
            .await?;
            let clock = cantine::domain::clock::SystemClock;
            let issued =
                cantine::app::invoicing::issue_month(&pool, &clock, &organisation, &month, "cli")
                    .await?;
            for invoice in &issued {
                println!(
                    "{}  {}  {} €",
                    invoice.number, invoice.family_name, invoice.total
                );
            }
            println!("{} invoices issued for {month}", issued.len());
            Ok(())
        }
        Command::Families {
            command:
                FamiliesCommand::Anonymise {
                    gone_for_years,
                    dry_run,
                },
        } => anonymise(gone_for_years, dry_run).await,
        Command::Staff {
            command:
                StaffCommand::Add {
                    login,
                    password,
                    role,
                },
        } => {
            if role == Role::Family {
                anyhow::bail!("family accounts are created through POST /api/v1/admin/families");
            }
            if password.chars().count() < 8 {
                anyhow::bail!("a password needs at least 8 characters");
            }
            let database = database::resolve().await?;
            let pool = db::connect(&database.url, 2).await?;
            db::migrate(&pool).await?;
            if db::accounts::user_by_login(&pool, &login).await?.is_some() {
                anyhow::bail!("the login {login:?} is already used");
            }
            let id = db::accounts::insert_user(
                &pool,
                &login,
                Some(&hash_password(&password)?),
                role,
                None,
            )
            .await?;
            println!("staff user {login} ({}) created: {id}", role.as_str());
            pool.close().await;
            Ok(())
        }
    }
}

/// The database of `serve` in the same environment, migrated.
async fn open() -> anyhow::Result<(sqlx::PgPool, database::Database)> {
    let database = database::resolve().await?;
    let pool = db::connect(&database.url, 4).await?;
    db::migrate(&pool).await?;
    Ok((pool, database))
}

async fn anonymise(years: u32, dry_run: bool) -> anyhow::Result<()> {
    let database = database::resolve().await?;
    let pool = db::connect(&database.url, 2).await?;
    db::migrate(&pool).await?;
    let now = clock_start()?.unwrap_or_else(chrono::Utc::now);
    let gone = db::retention::gone_families(&pool, now, years).await?;
    if dry_run {
        println!(
            "{} families gone for {years} years (dry run, nothing changed):",
            gone.len()
        );
        for id in &gone {
            println!("  {id}");
        }
    } else {
        db::retention::anonymise(&pool, &gone, now).await?;
        println!("{} families gone for {years} years anonymised; invoices, payments and the event log are kept", gone.len());
    }
    pool.close().await;
    Ok(())
}

fn clock_start() -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    match std::env::var("CANTINE_CLOCK") {
        Ok(text) => Ok(Some(
            chrono::DateTime::parse_from_rfc3339(&text)
                .with_context(|| format!("CANTINE_CLOCK={text:?} is not an RFC 3339 instant"))?
                .with_timezone(&chrono::Utc),
        )),
        Err(_) => Ok(None),
    }
}

async fn serve() -> anyhow::Result<()> {
    let database = database::resolve().await?;
    let pool = db::connect(&database.url, 32)
        .await
        .context("connecting to PostgreSQL")?;
    db::migrate(&pool).await.context("applying migrations")?;
    let organisation = db::reference::ensure_organisation(
        &pool,
        &std::env::var("CANTINE_ORGANISATION")
            .unwrap_or_else(|_| "Communauté de communes Terre de Camargue".into()),
        &std::env::var("CANTINE_ORGANISATION_ADDRESS")
            .unwrap_or_else(|_| "26 Quai des Croisades, 30220 AIGUES-MORTES".into()),
    )
    .await?;
    let clock_start = clock_start()?;
    let demo_now = clock_start.unwrap_or_else(chrono::Utc::now);
    let wants_demo = std::env::var("CANTINE_DEMO")
        .map(|v| v != "0")
        .unwrap_or(true);
    if wants_demo && demo::load_if_empty(&pool, &organisation, demo_now).await? {
        tracing::info!("demo data loaded");
    }
    let listen: SocketAddr = std::env::var("CANTINE_LISTEN")
        .unwrap_or_else(|_| "127.0.0.1:8080".into())
        .parse()
        .context("CANTINE_LISTEN must be host:port")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    let public_url =
        std::env::var("CANTINE_PUBLIC_URL").unwrap_or_else(|_| format!("http://{address}"));
    let data_dir = std::path::PathBuf::from(
        std::env::var("CANTINE_DATA").unwrap_or_else(|_| "./.cantine".into()),
    );
    let mailer = Mailer::from_settings(
        &std::env::var("CANTINE_MAIL_FROM")
            .unwrap_or_else(|_| "Portail famille <ne-pas-repondre@cantine.example>".into()),
        std::env::var("CANTINE_SMTP_URL").ok().as_deref(),
        data_dir.join("mail"),
    )?;
    tracing::info!(mail = %mailer.describe(), "outgoing e-mail");
    let (state, background) = app::build(
        pool.clone(),
        Settings {
            clock_start,
            payment_secret: std::env::var("CANTINE_PAYMENT_SECRET").ok(),
            payment_page_url: std::env::var("CANTINE_PAYMENT_PAGE_URL").ok(),
            security: SecuritySettings::from_env(&public_url),
            public_url: public_url.clone(),
            mailer,
        },
    )
    .await?;
    println!("Cantine listens on {public_url}  (health: {public_url}/health, API: {public_url}/api/v1/openapi.json)");
    println!(
        "Family portal and staff back office: {public_url}/connexion (staff land on /gestion)"
    );
    if demo::present(&pool).await? {
        println!("Demo logins (POST /api/v1/auth/login):");
        for (login, password, role) in demo::LOGINS {
            println!("  {:<8} {login:<28} {password}", role.as_str());
        }
    }
    web::serve(listener, web::router(state), shutdown_signal()).await?;
    tracing::info!("stopping");
    background.shutdown();
    pool.close().await;
    drop(database);
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate.recv() => {},
    }
}
