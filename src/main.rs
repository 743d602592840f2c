use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use cantine::app::accounts::credentials::hash_password;
use cantine::app::demo;
use cantine::config::Settings;
use cantine::db::audit_log as audit;
use cantine::domain::account::Role;
use cantine::startup::{open_database, Application};
use cantine::{db, projections, telemetry};

/// mimalloc rather than glibc's allocator: a replay's many short-lived vectors and maps made
/// malloc and free 12 % of its client CPU (perf, F = 10,000), and the probe's replay took
/// 2.00-2.51 s with it against 2.11-2.67 s without. Its price is memory: it keeps freed pages
/// per thread for reuse, and the server's peak RSS in the benchmark went from 28 to 73-85 MiB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "cantine",
    about = "School-canteen booking service (portail famille)",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Read once here; every subcommand takes what it needs from them.
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Starts the HTTP service (and, without DATABASE_URL, its private PostgreSQL).
    Serve,
    /// Towns served by this install, each on its host name (the platform operator's).
    Town {
        #[command(subcommand)]
        command: TownCommand,
    },
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
    /// Writes a consistent backup of the service's database (the private cluster's too) to a
    /// file (pg_dump's custom format).
    Backup {
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Restores a backup into an empty database (refused otherwise), then applies the
    /// migrations newer than the backup.
    Restore {
        #[arg(long)]
        from: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum TownCommand {
    /// Creates a town (its own schema and database role, its organisation and its first
    /// administrator), served on `--host` at once by a running service of several towns, else
    /// from the service's next start.
    Add {
        #[arg(long)]
        host: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        address: String,
        #[arg(long)]
        admin_login: String,
        #[arg(long)]
        admin_password: String,
    },
    /// Lists the towns and their host names.
    List,
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
    /// Issues the billed-later invoices of a month (YYYY-MM) once it has ended by the service's
    /// clock (`CANTINE_CLOCK` when set), with the supplementary invoices and credit notes of the
    /// changes since the last run; running it again issues none. An unfinished month is refused
    /// unless `--served-until` names a day already served: then only the days up to it are billed.
    Issue {
        #[arg(long)]
        month: String,
        #[arg(long)]
        served_until: Option<chrono::NaiveDate>,
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
    /// Lifts a staff account's lock (three wrong passwords), optionally with a new password:
    /// the way back in when every administrator is locked out.
    Unlock {
        #[arg(long)]
        login: String,
        /// Sets this password too (8 characters at least).
        #[arg(long)]
        password: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let matches = Cli::command().get_matches();
    let Cli {
        command,
        mut settings,
    } = Cli::from_arg_matches(&matches)?;
    settings.demo_explicit = matches!(
        matches.value_source("demo"),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    );
    telemetry::init(settings.log_format);
    match command {
        Command::Serve => serve(settings).await,
        Command::Town {
            command:
                TownCommand::Add {
                    host,
                    name,
                    address,
                    admin_login,
                    admin_password,
                },
        } => {
            let (pool, _database) = open_database(&settings, 2).await?;
            let first = cantine::app::towns::list(&pool).await?.is_empty();
            let town = cantine::app::towns::add(
                &pool,
                &cantine::app::towns::NewTown {
                    host,
                    name,
                    address,
                    admin_login,
                    admin_password,
                },
            )
            .await?;
            println!(
                "town {} created on {} (schema {})",
                town.name, town.host, town.schema_name
            );
            if first {
                println!(
                    "this install served one town on any host name until now: from its next start it serves its towns, each on its own host name"
                );
            } else {
                println!("a running service serves it within seconds; its administrator may log in on {}", town.host);
            }
            pool.close().await;
            Ok(())
        }
        Command::Town {
            command: TownCommand::List,
        } => {
            let (pool, _database) = open_database(&settings, 2).await?;
            for town in cantine::app::towns::list(&pool).await? {
                println!("{:<32} {}", town.host, town.name);
            }
            pool.close().await;
            Ok(())
        }
        Command::Migrate => {
            let (_pool, _database) = open_database(&settings, 2).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Projections {
            command: ProjectionsCommand::Rebuild { name },
        } => {
            let (pool, _database) = open_database(&settings, 4).await?;
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
            let (pool, _database) = open_database(&settings, 4).await?;
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
            let (pool, _database) = open_database(&settings, 4).await?;
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
            command:
                InvoicesCommand::Issue {
                    month,
                    served_until,
                },
        } => {
            let (pool, _database) = open_database(&settings, 4).await?;
            let organisation = db::reference::organisation(&pool)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no organisation yet: start the service once"))?;
            // The service's clock: the injected one when CANTINE_CLOCK is set.
            let clock: Box<dyn cantine::domain::clock::Clock> = match settings.clock {
                Some(start) => {
                    Box::new(cantine::domain::clock::AdjustableClock::starting_at(start))
                }
                None => Box::new(cantine::domain::clock::SystemClock),
            };
            // Refused before anything is read when the month has not ended.
            if let Err(not_due) = cantine::domain::month_billing::billing_cutoff(
                &month,
                served_until,
                clock.paris_today(),
            ) {
                eprintln!("Nothing issued: {not_due}.");
                std::process::exit(2);
            }
            // The billed days come from the reservations projection: bring it up to date first.
            projections::projector::catch_up(
                &pool,
                &projections::reservations::ReservationsProjection,
            )
            .await?;
            let run = cantine::app::invoicing::issue_month(
                &pool,
                clock.as_ref(),
                &organisation,
                &month,
                served_until,
                "cli",
            )
            .await?;
            for invoice in run.invoices.iter().chain(&run.credit_notes) {
                println!(
                    "{}  {}  {}  {} €",
                    invoice.number, invoice.issuer.name, invoice.family_name, invoice.total
                );
            }
            println!(
                "{} invoices and {} credit notes issued for {month}",
                run.invoices.len(),
                run.credit_notes.len()
            );
            Ok(())
        }
        Command::Backup { to } => {
            let database = resolve_database(&settings).await?;
            db::backup::dump(&database.url, &to)?;
            println!("backup written to {}", to.display());
            Ok(())
        }
        Command::Restore { from } => {
            let database = resolve_database(&settings).await?;
            db::backup::ensure_empty(&database.url).await?;
            db::backup::restore(&database.url, &from)?;
            db::backup::renumber_transactions(&database.url).await?;
            let pool = db::connect(&database.url, 2).await?;
            db::migrate(&pool).await?;
            pool.close().await;
            println!("{} restored", from.display());
            Ok(())
        }
        Command::Families {
            command:
                FamiliesCommand::Anonymise {
                    gone_for_years,
                    dry_run,
                },
        } => anonymise(&settings, gone_for_years, dry_run).await,
        Command::Staff {
            command: StaffCommand::Unlock { login, password },
        } => {
            if password.as_ref().is_some_and(|p| p.chars().count() < 8) {
                anyhow::bail!("a password needs at least 8 characters");
            }
            let (pool, _database) = open_database(&settings, 2).await?;
            let user = db::accounts::user_by_login(&pool, &login)
                .await?
                .filter(|u| u.role != Role::Family.as_str())
                .ok_or_else(|| anyhow::anyhow!("no staff account with the login {login:?}"))?;
            db::accounts::unlock(&pool, user.id).await?;
            if let Some(password) = password {
                let now = settings.clock.unwrap_or_else(chrono::Utc::now);
                db::accounts::set_password(&pool, user.id, &hash_password(&password)?, now).await?;
            }
            tracing::warn!(login = %login, "staff account unlocked from the command line");
            println!("staff user {login} unlocked");
            pool.close().await;
            Ok(())
        }
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
            let (pool, _database) = open_database(&settings, 2).await?;
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

/// The database the settings name, or the private cluster, started if needed; not migrated
/// (a backup copies what is there; a restore needs it empty).
async fn resolve_database(settings: &Settings) -> anyhow::Result<db::server::Database> {
    db::server::resolve(settings.database_url.as_deref(), &settings.data).await
}

async fn anonymise(settings: &Settings, years: u32, dry_run: bool) -> anyhow::Result<()> {
    let (pool, _database) = open_database(settings, 2).await?;
    let now = settings.clock.unwrap_or_else(chrono::Utc::now);
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

async fn serve(settings: Settings) -> anyhow::Result<()> {
    // Taken over before anything else: a SIGTERM from the first instant on stops the service
    // cleanly instead of killing it.
    let stop = shutdown_signal()?;
    let application = Application::build(settings).await?;
    let public_url = application.public_url().to_string();
    println!("Cantine listens on {public_url}  (health: {public_url}/health, API: {public_url}/api/v1/openapi.json)");
    println!(
        "Family portal and staff back office: {public_url}/connexion (staff land on /gestion)"
    );
    for site in application.sites() {
        if site.host.is_some() {
            println!("{}: {}/connexion", site.name, site.public_url);
        }
        let logins: &[(&str, &str, Role)] = match site.host.as_deref() {
            Some(host) => demo::DemoTown::ALL
                .into_iter()
                .find(|town| town.host() == host)
                .map(|town| town.logins())
                .unwrap_or(&[]),
            None => &demo::LOGINS,
        };
        if !logins.is_empty() && demo::present_in(&site.state.pool, logins).await? {
            println!("  Demo logins (POST /api/v1/auth/login):");
            for (login, password, role) in logins {
                println!("    {:<8} {login:<28} {password}", role.as_str());
            }
        }
    }
    application.run_until_stopped(stop).await
}

/// Resolves on Ctrl-C or SIGTERM; both are listened for from the moment this is called.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}
