//! The real server, `cantine serve`, run as separate processes on the benchmark's database:
//! started, health-checked, killed (SIGKILL, for the crash drill), restarted on the same port
//! with the clock where it was, and stopped. Each dies with the benchmark (parent-death signal).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

use crate::setup::{Environment, Reference, PAYMENT_SECRET};
use crate::Args;

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

pub struct ServerProcess {
    child: Child,
    pub base_url: String,
    pub listen: String,
    /// Peak RSS (VmHWM, KiB) of processes of this slot that were killed (crash drill).
    pub earlier_peak_kib: u64,
}

impl ServerProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    fn signal(&self, signal: Signal) {
        let _ = signal::kill(Pid::from_raw(self.pid() as i32), signal);
    }

    fn wait_exit(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.signal(Signal::SIGTERM);
            if !self.wait_exit(STOP_TIMEOUT) {
                self.kill_now();
            }
        }
    }
}

pub struct Servers {
    pub procs: Vec<ServerProcess>,
    bin: PathBuf,
    database_url: String,
    log_dir: PathBuf,
    clock_start: DateTime<Utc>,
    started_at: Instant,
    /// Minutes the admin clock route moved the clocks forward.
    pub advanced_minutes: i64,
    pub http: reqwest::Client,
    pub kills: usize,
}

/// `cantine` next to this executable (`target/release/cantine` beside
/// `target/release/cantine-bench`); built on the spot when run through `cargo run`.
fn server_binary(args: &Args) -> anyhow::Result<PathBuf> {
    if let Some(bin) = &args.server_bin {
        return Ok(bin.clone());
    }
    let me = std::env::current_exe()?;
    let dir = me.parent().context("the executable's folder")?;
    let bin = dir.join("cantine");
    // `cargo run --bin cantine-bench` builds only this binary: build the server the same way.
    if let (Ok(cargo), Ok(manifest)) = (std::env::var("CARGO"), std::env::var("CARGO_MANIFEST_DIR"))
    {
        let release = dir.file_name().is_some_and(|n| n == "release");
        eprintln!(
            "building the server: cargo build{} --bin cantine",
            if release { " --release" } else { "" }
        );
        let mut build = Command::new(cargo);
        build
            .current_dir(manifest)
            .args(["build", "--quiet", "--bin", "cantine"]);
        if release {
            build.arg("--release");
        }
        if std::env::var_os("CI").is_some() {
            build.arg("--locked");
        }
        let status = build.status()?;
        anyhow::ensure!(status.success(), "building the server failed");
    }
    anyhow::ensure!(
        bin.exists(),
        "no server executable at {}: build it (cargo build --release --bins) or pass --server-bin",
        bin.display()
    );
    Ok(bin)
}

/// The clients' HTTP client; each town's host name resolves to the loopback address, where
/// the servers listen (the port is the URL's).
fn http_client(args: &Args, reference: &Reference) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(args.clients.max(8));
    for host in reference.towns.iter().filter_map(|t| t.host.as_deref()) {
        builder = builder.resolve(host, std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    }
    Ok(builder.build()?)
}

impl Servers {
    pub async fn start(
        args: &Args,
        env: &Environment,
        reference: &Reference,
    ) -> anyhow::Result<Self> {
        let mut servers = Self {
            procs: Vec::new(),
            bin: server_binary(args)?,
            database_url: env.url.clone(),
            log_dir: env.work_dir.clone(),
            clock_start: reference.clock_start,
            started_at: Instant::now(),
            advanced_minutes: 0,
            http: http_client(args, reference)?,
            kills: 0,
        };
        for n in 0..args.servers {
            let process = servers.spawn(n as usize, "127.0.0.1:0").await?;
            servers.procs.push(process);
        }
        Ok(servers)
    }

    /// The PIDs of the server processes, in their order.
    pub fn pids(&self) -> Vec<u32> {
        self.procs.iter().map(ServerProcess::pid).collect()
    }

    pub fn base_urls(&self) -> Vec<String> {
        self.procs.iter().map(|p| p.base_url.clone()).collect()
    }

    /// The servers' clock now: where it started, plus the time since, plus what was advanced.
    fn clock_now(&self) -> DateTime<Utc> {
        self.clock_start
            + chrono::Duration::from_std(self.started_at.elapsed()).unwrap_or_default()
            + chrono::Duration::minutes(self.advanced_minutes)
    }

    async fn spawn(&self, slot: usize, listen: &str) -> anyhow::Result<ServerProcess> {
        let log_path = self.log_dir.join(format!("server-{slot}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)?;
        let mut command = Command::new(&self.bin);
        command
            .arg("serve")
            .env("DATABASE_URL", &self.database_url)
            .env("CANTINE_LISTEN", listen)
            .env("CANTINE_DEMO", "0")
            .env("CANTINE_CLOCK", self.clock_now().to_rfc3339())
            .env("CANTINE_PAYMENT_SECRET", PAYMENT_SECRET)
            .env(
                "CANTINE_METRICS_TOKEN",
                crate::projector_times::METRICS_TOKEN,
            )
            .env(
                "RUST_LOG",
                std::env::var("CANTINE_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log.try_clone()?);
        // The server dies with the benchmark, even on SIGKILL or a panic.
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            command.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)
            });
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || copy_output(stdout, log, sender));
        let deadline = Instant::now() + READY_TIMEOUT;
        let base_url = loop {
            match receiver.recv_timeout(Duration::from_millis(100)) {
                Ok(url) => break url,
                Err(_) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    anyhow::bail!(
                        "the server did not start within {READY_TIMEOUT:?}; see {}",
                        log_path.display()
                    );
                }
                Err(_) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        anyhow::bail!(
                            "the server exited ({status}) at start; see {}",
                            log_path.display()
                        );
                    }
                }
            }
        };
        let listen = base_url.trim_start_matches("http://").to_string();
        let process = ServerProcess {
            child,
            base_url,
            listen,
            earlier_peak_kib: 0,
        };
        wait_healthy(&self.http, &process.base_url, READY_TIMEOUT).await?;
        Ok(process)
    }

    /// SIGKILL every server, as a crash would.
    pub fn kill_all(&mut self) {
        for process in &mut self.procs {
            process.earlier_peak_kib = process
                .earlier_peak_kib
                .max(process.peak_rss_kib().unwrap_or(0));
            process.signal(Signal::SIGKILL);
            process.kill_now();
        }
        self.kills += 1;
    }

    /// Starts every server again on the port it had, with the clock where it was.
    pub async fn restart_all(&mut self) -> anyhow::Result<()> {
        let old = std::mem::take(&mut self.procs);
        for (slot, process) in old.iter().enumerate() {
            // The listening port may take a moment to be free again.
            let mut attempt = 0;
            let mut started = loop {
                attempt += 1;
                match self.spawn(slot, &process.listen).await {
                    Ok(p) => break p,
                    Err(e) if attempt < 5 => {
                        eprintln!("restart attempt {attempt} failed: {e:#}");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Err(e) => return Err(e),
                }
            };
            started.earlier_peak_kib = process.earlier_peak_kib;
            self.procs.push(started);
        }
        Ok(())
    }

    /// Resets the servers' peak-RSS mark (`clear_refs` 5), so that the next reading covers the
    /// workload only, not the login phase (argon2 takes 19 MiB per login in flight). Answers
    /// the peaks so far.
    pub fn reset_peak_rss(&mut self) -> Vec<u64> {
        let peaks = self.peak_rss_kib();
        for process in &mut self.procs {
            process.earlier_peak_kib = 0;
            let _ = std::fs::write(format!("/proc/{}/clear_refs", process.pid()), "5");
        }
        peaks
    }

    /// Peak resident memory (VmHWM) of each server, in KiB, over all its lives.
    pub fn peak_rss_kib(&self) -> Vec<u64> {
        self.procs
            .iter()
            .map(|p| p.peak_rss_kib().unwrap_or(0).max(p.earlier_peak_kib))
            .collect()
    }

    /// Moves every server's clock forward (each server has its own clock).
    /// Moves every town's clock on every server (each town has its own, moved by its own
    /// administrator: `tokens` are theirs, in the order of `reference.towns`).
    pub async fn advance_clock(
        &mut self,
        reference: &Reference,
        tokens: &[String],
        minutes: i64,
    ) -> anyhow::Result<()> {
        for url in self.base_urls() {
            for (town, token) in reference.towns.iter().zip(tokens) {
                let url = crate::setup::town_url(&url, town.host.as_deref());
                let response = self
                    .http
                    .post(format!("{url}/api/v1/admin/clock"))
                    .bearer_auth(token)
                    .json(&serde_json::json!({ "advance_minutes": minutes }))
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "advancing the clock of {url}: {}",
                    response.status()
                );
            }
        }
        self.advanced_minutes += minutes;
        Ok(())
    }

    /// Graceful stop (SIGTERM, then SIGKILL after 15 s).
    pub async fn stop(&mut self) {
        let procs = std::mem::take(&mut self.procs);
        let _ = tokio::task::spawn_blocking(move || drop(procs)).await;
    }

    /// `cantine audit verify`, when the server binary has that subcommand (issue 3).
    pub fn has_subcommand(&self, name: &str) -> bool {
        Command::new(&self.bin)
            .arg("--help")
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.trim_start().starts_with(name))
            })
            .unwrap_or(false)
    }

    /// Runs `cantine <args>` on the benchmark's database; answers its exit success and output.
    /// Runs `cantine <args>`, on the town served on `town` when there are several.
    pub fn run_command(&self, town: Option<&str>, args: &[&str]) -> anyhow::Result<(bool, String)> {
        let mut command = Command::new(&self.bin);
        if let Some(town) = town {
            command.args(["--town", town]);
        }
        let output = command
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()?;
        let mut text = String::from_utf8_lossy(&output.stdout).to_string();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Ok((output.status.success(), text))
    }
}

/// Copies the server's stdout to its log, sending the URL of the "Cantine listens on" line.
fn copy_output(
    stdout: std::process::ChildStdout,
    mut log: std::fs::File,
    sender: mpsc::Sender<String>,
) {
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(rest) = line.strip_prefix("Cantine listens on ") {
            if let Some(url) = rest.split_whitespace().next() {
                let _ = sender.send(url.to_string());
            }
        }
        let _ = writeln!(log, "{line}");
    }
}

/// Polls `/health` until it answers 200, for at most `limit`.
pub async fn wait_healthy(
    http: &reqwest::Client,
    base_url: &str,
    limit: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let ok = http
            .get(format!("{base_url}/health"))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false);
        if ok {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("{base_url} did not become healthy within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
