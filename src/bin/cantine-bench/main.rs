//! The opening-day benchmark (docs `bench.md`, issue 7) and its resilience drills.
//!
//! It starts a private PostgreSQL cluster (or uses `--database-url`), creates a fresh database,
//! loads the reference data, runs the real `cantine serve` in a separate process, drives the
//! opening-day workload through the HTTP API, measures the physical ceiling with pgbench against
//! the same PostgreSQL, checks the invariants and prints the figures, ending with `ratio: ...`.
//!
//! Modes: the plain benchmark; `--crash-drill` (SIGKILL the server mid-run, restart it, finish,
//! check that nothing the clients saw succeed is lost); `--servers 2` (two servers on one
//! database, clients split across both). The program always ends by itself: every wait is
//! bounded, and it stops its servers and its cluster on the way out (also on a panic: the
//! servers die with it through the parent-death signal).

mod ceiling;
mod cpu;
mod db_profile;
mod invariants;
mod open_loop;
mod projector_times;
mod replay;
mod report;
mod server;
mod setup;
mod wait_sampler;
mod workload;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

/// The server's allocator (see `src/main.rs`): the benchmark's replay runs in this process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "cantine-bench",
    about = "Opening-day benchmark and resilience drills of Cantine"
)]
pub struct Args {
    /// Number of families (1 to 3 children each).
    #[arg(long, default_value_t = 2000)]
    pub families: usize,
    /// Concurrent HTTP clients (and pgbench clients).
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Seed of the workload's random choices.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// A PostgreSQL server to use (a URL to any database of it, e.g. its `postgres` database);
    /// the benchmark creates its own fresh database there. Without it, a private cluster is
    /// started under a temporary directory.
    #[arg(long)]
    pub database_url: Option<String>,
    /// How long pgbench measures the ceiling.
    #[arg(long, default_value_t = 10)]
    pub pgbench_seconds: u64,
    /// Number of server processes sharing the database (clients are split across them).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub servers: u8,
    /// Crash drill: SIGKILL the server(s) mid-run (see --kills), restart, finish, check.
    #[arg(long)]
    pub crash_drill: bool,
    /// Crash drill: how many times the servers are killed (spread over the run).
    #[arg(long, default_value_t = 2)]
    pub kills: usize,
    /// Make one restaurant too small for its children on Mondays and Thursdays, so that
    /// `day_full` refusals must happen (and "no day over capacity" shows whether they do).
    #[arg(long)]
    pub tight: bool,
    /// The `cantine` executable to run as the server (default: next to this one).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Skip the pgbench ceiling (the ratio line then says n/a).
    #[arg(long)]
    pub no_pgbench: bool,
    /// Load `pg_stat_statements` in the private cluster and print the statements that took the
    /// database's time during the workload and during the replay (the SQL side of a profile).
    #[arg(long)]
    pub pg_stat_statements: bool,
    /// Sample `pg_stat_activity` every 10 ms during the workload and print what the busy
    /// connections were doing: running, waiting for a row lock, flushing the WAL, or idle in a
    /// transaction (where a statement's time goes, beside `--pg-stat-statements`).
    #[arg(long)]
    pub wait_events: bool,
    /// With --database-url: keep the benchmark's database at the end (its URL is printed), to
    /// replay or inspect it again (`DATABASE_URL=... cantine audit verify`).
    #[arg(long, requires = "database_url")]
    pub keep_database: bool,
    /// Open loop, beside the closed loop: the closed loop runs on the first half of the
    /// families, then the second half start on a fixed schedule whatever the answers. The unit
    /// is families started per second (each family's first request, `POST /reservations`, at
    /// `t0 + i / rate`), e.g. `--rate 12.5`; or a share of the families per second the closed
    /// loop achieved in the same run, e.g. `--rate 80%`. Latency is measured from each
    /// request's scheduled time. Not with the drills.
    #[arg(long, conflicts_with_all = ["crash_drill"])]
    pub rate: Option<open_loop::Rate>,
    /// Towns on the install (issue 19): with N > 1, N towns are made as the platform operator
    /// makes them (each its own schema, role, organisation, administrator and six restaurants,
    /// served on its own host name) and the families are spread over them, family `i` in town
    /// `i mod N`; the invariants, the audit and the replay are checked town by town.
    #[arg(long, default_value_t = 1)]
    pub towns: usize,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();
    let outcome = runtime.block_on(run(args));
    // Whatever is still running (a server stuck in shutdown) is not waited for forever.
    runtime.shutdown_timeout(Duration::from_secs(5));
    match outcome {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!(
                "cantine-bench: invariants FAILED (after {:.0} s)",
                started.elapsed().as_secs_f64()
            );
            std::process::ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("cantine-bench: error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Answers whether every invariant held.
async fn run(args: Args) -> anyhow::Result<bool> {
    let total = Instant::now();
    anyhow::ensure!(
        (1..=200).contains(&args.towns),
        "--towns is between 1 and 200"
    );
    let mut env = setup::Environment::start(&args).await?;
    let result = match setup::create_towns(&mut env, &args).await {
        Ok(()) => run_in(&args, &env).await,
        Err(e) => Err(e),
    };
    let stopped = env.shutdown().await;
    let passed = result?;
    stopped?;
    eprintln!("total run time: {:.0} s", total.elapsed().as_secs_f64());
    Ok(passed)
}

async fn run_in(args: &Args, env: &setup::Environment) -> anyhow::Result<bool> {
    let setup_started = Instant::now();
    let reference = Arc::new(setup::load_reference_data(env, args).await?);
    setup::create_families(env, &reference).await?;
    let mut servers = server::Servers::start(args, env, &reference).await?;
    let start_rss_kib = servers.peak_rss_kib();
    let (families, admin_tokens) = workload::log_in(&servers, &reference, args.clients).await?;
    let login_peak_rss_kib = servers.reset_peak_rss();
    let setup_secs = setup_started.elapsed().as_secs_f64();
    eprintln!(
        "setup done in {setup_secs:.1} s: {} families logged in; running the workload",
        families.len()
    );

    let profile = db_profile::Profile::new(args, env).await;
    let waits = wait_sampler::Sampler::start(args, env).await?;
    let outcome = workload::run(args, env, &mut servers, &reference, families).await?;
    let projectors = projector_times::scrape(&servers, &reference).await;
    let workload_waits = waits.take().await;
    let workload_profile = profile.take("workload").await;
    eprintln!(
        "workload done in {:.1} s; expiring the unpaid",
        outcome.wall.as_secs_f64()
    );
    let settle = workload::expire_unpaid(env, &mut servers, &reference, &admin_tokens).await?;
    let peak_rss_kib = servers.peak_rss_kib();
    eprintln!("checking the invariants and measuring the replay");
    let checks = invariants::check(env, &outcome, &servers).await?;
    profile.reset().await;
    let replay = replay::measure(env).await?;
    let replay_profile = profile.take("replay").await;
    servers.stop().await;
    let ceiling = if args.no_pgbench {
        None
    } else {
        eprintln!(
            "measuring the ceiling: pgbench, {} clients, {} s",
            args.clients, args.pgbench_seconds
        );
        Some(ceiling::measure(env, args.clients, args.pgbench_seconds).await?)
    };
    let machine = report::machine(&env.pool).await;
    let passed = report::print(report::Report {
        args,
        machine: &machine,
        reference: &reference,
        setup_secs,
        outcome: &outcome,
        settle: &settle,
        peak_rss_kib,
        login_peak_rss_kib,
        start_rss_kib,
        replay: &replay,
        ceiling: ceiling.as_ref(),
        checks: &checks,
        projectors: &projectors,
    });
    for top in [workload_profile, workload_waits, replay_profile]
        .into_iter()
        .flatten()
    {
        println!("{top}");
    }
    Ok(passed)
}
