use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};

use cantine::accounts::{hash_password, Role};
use cantine::app::{self, Settings};
use cantine::{api, database, db, demo, telemetry};

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
    let clock_start = match std::env::var("CANTINE_CLOCK") {
        Ok(text) => Some(
            chrono::DateTime::parse_from_rfc3339(&text)
                .with_context(|| format!("CANTINE_CLOCK={text:?} is not an RFC 3339 instant"))?
                .with_timezone(&chrono::Utc),
        ),
        Err(_) => None,
    };
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
    let (state, background) = app::build(
        pool.clone(),
        Settings {
            clock_start,
            payment_secret: std::env::var("CANTINE_PAYMENT_SECRET").ok(),
            public_url: public_url.clone(),
        },
    )
    .await?;
    println!("Cantine listens on {public_url}  (health: {public_url}/health, API: {public_url}/api/v1/openapi.json)");
    if demo::present(&pool).await? {
        println!("Demo logins (POST /api/v1/auth/login):");
        for (login, password, role) in demo::LOGINS {
            println!("  {:<8} {login:<28} {password}", role.as_str());
        }
    }
    axum::serve(listener, api::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
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
