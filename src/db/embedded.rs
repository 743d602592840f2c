//! A private PostgreSQL server owned by this process.
//!
//! Cantine keeps all of its state in PostgreSQL. When `DATABASE_URL` is unset the service
//! starts its own server on a private data directory, so that a fresh machine with only the
//! PostgreSQL server package installed can run it without setting up a cluster by hand. The
//! test suite uses the same code to start one throwaway cluster per run that all tests share
//! (each test creates its own database over SQL; that is not this module's job).
//!
//! Choices that are not obvious from the code:
//!
//! - The server is a direct child process (`postgres -D ...`), not `pg_ctl start`, which
//!   daemonises: a child can carry the Linux parent-death signal, so the server shuts down
//!   (fast shutdown, SIGINT) when this process dies, even by SIGKILL or a panic that skips
//!   destructors. Nothing is left running to hold the port or the data directory.
//! - The parent-death signal fires when the *thread* that forked the child exits, not the
//!   process. Callers run on short-lived threads (test harness threads, tokio's blocking pool),
//!   so every server is forked from one dedicated spawner thread that lives as long as the
//!   process does.
//! - The server runs in its own process group so that Ctrl-C on a terminal reaches only the
//!   service, which then stops the server in order instead of losing its database mid-shutdown.
//! - PostgreSQL refuses to run as root; under root (containers, CI) the cluster is owned by and
//!   run as the `postgres` system user.
//! - A second `start` on a data directory whose server is already running attaches to that
//!   server instead of failing, so that several processes (or several test binaries) can share
//!   one cluster. Only the process that started a server stops it (explicitly, on drop, or by
//!   dying), so the cluster lasts as long as that process. Starting is serialised across
//!   processes with an advisory lock on the data directory.
//! - The server's output goes to `<data_dir>/postgres.log` (see [`EmbeddedPostgres::log_path`]);
//!   it lives with the cluster and disappears with it, like PostgreSQL's own `log/` directory.
//! - The unix socket is put in the data directory so that clusters never collide on
//!   `/var/run/postgresql` and no system directory needs to be writable; TCP is bound to
//!   127.0.0.1 only.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{self, Signal};
use nix::unistd::{Pid, User};

/// Environment variable naming the directory holding `initdb` and `postgres`.
pub const BIN_DIR_ENV: &str = "CANTINE_PG_BIN";

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// After SIGQUIT (immediate shutdown) the server has no work left to do; this only guards
/// against a wedged process before resorting to SIGKILL.
const QUIT_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
const LOG_FILE_NAME: &str = "postgres.log";
const LOG_TAIL_LINES: usize = 30;
/// A port picked by binding port 0 can be taken by someone else before the server binds it.
const PORT_ATTEMPTS: u32 = 3;
/// `sun_path` holds 107 bytes plus NUL and the server appends `/.s.PGSQL.NNNNN`.
const MAX_SOCKET_DIR_LEN: usize = 107 - "/.s.PGSQL.65535".len();

/// Options for [`EmbeddedPostgres::start`].
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// Turns off `fsync`, `synchronous_commit` and `full_page_writes` (and makes `initdb` skip
    /// its syncs). Data may be lost on a machine crash: only for throwaway test clusters.
    pub fast_unsafe: bool,
    /// Overrides the server's `max_connections` (default 100).
    pub max_connections: Option<u32>,
    /// Further `-c name=value` settings (the benchmark's `pg_stat_statements` profile).
    pub settings: Vec<String>,
}

/// Why a private server could not be started or stopped; each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries not found; install them (Debian/Ubuntu: apt-get install -y \
         postgresql) or set DATABASE_URL"
    )]
    BinariesNotFound,
    #[error(
        "{BIN_DIR_ENV}={} does not contain the `initdb` and `postgres` executables; point it at \
         the server's bin directory (e.g. /usr/lib/postgresql/15/bin) or unset it",
        .0.display()
    )]
    InvalidBinDir(PathBuf),
    #[error(
        "running as root, but there is no `postgres` system user to run the server as \
         (PostgreSQL refuses to run as root); create one (useradd --system --home-dir \
         /var/lib/postgresql postgres), run as an unprivileged user, or set DATABASE_URL"
    )]
    NoPostgresUser,
    #[error(
        "the server runs as user `{user}`, which cannot reach {}: directory {} is not \
         traversable by it; choose a data directory elsewhere (e.g. under /var/lib or /tmp) or \
         make that directory searchable (chmod o+x)",
        data_dir.display(),
        blocking.display()
    )]
    NotTraversable {
        user: String,
        data_dir: PathBuf,
        blocking: PathBuf,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("initdb failed ({status}) for {}:\n{output}", data_dir.display())]
    InitdbFailed {
        data_dir: PathBuf,
        status: ExitStatus,
        output: String,
    },
    #[error(
        "PostgreSQL server for {} exited during startup ({status}); last lines of {}:\n{log_tail}",
        data_dir.display(),
        log_path.display()
    )]
    ServerExited {
        data_dir: PathBuf,
        log_path: PathBuf,
        status: ExitStatus,
        log_tail: String,
    },
    #[error(
        "PostgreSQL server for {} did not accept connections within {}s; last lines of {}:\n{log_tail}",
        data_dir.display(),
        READY_TIMEOUT.as_secs(),
        log_path.display()
    )]
    StartTimeout {
        data_dir: PathBuf,
        log_path: PathBuf,
        log_tail: String,
    },
    #[error("could not send {signal} to the PostgreSQL server (pid {pid}): {source}")]
    Signal {
        pid: i32,
        signal: Signal,
        #[source]
        source: Errno,
    },
}

fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Io { context, source }
}

/// A PostgreSQL server on a private data directory, either started (and owned) by this handle
/// or found already running and attached to.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    log_path: PathBuf,
    port: u16,
    pid: i32,
    owns_server: bool,
    /// `Some` while an owned server may still be running; emptied once it has been reaped.
    child: Option<Child>,
}

impl EmbeddedPostgres {
    /// Locates the server binaries: `$CANTINE_PG_BIN` if set, else the directory of `initdb`
    /// found on `PATH` (only if `postgres` is next to it), else the highest-version
    /// `/usr/lib/postgresql/*/bin`, else `pg_config --bindir`.
    pub fn find_binaries() -> Result<PathBuf, EmbeddedError> {
        if let Some(dir) = std::env::var_os(BIN_DIR_ENV).filter(|v| !v.is_empty()) {
            let dir = PathBuf::from(dir);
            // A set but wrong variable is a mistake to report, not a hint to ignore.
            return if is_server_bin_dir(&dir) {
                Ok(dir)
            } else {
                Err(EmbeddedError::InvalidBinDir(dir))
            };
        }
        bin_dir_from_path()
            .or_else(newest_debian_bin_dir)
            .or_else(bin_dir_from_pg_config)
            .ok_or(EmbeddedError::BinariesNotFound)
    }

    /// Starts (initialising first if needed) a private cluster whose data lives directly in
    /// `data_dir`, or attaches to the server already running there.
    ///
    /// The server listens on 127.0.0.1 on a free port chosen now, with its unix socket in
    /// `data_dir`, and writes its output to [`log_path`](Self::log_path). It stops when the
    /// returned handle is stopped or dropped, or when this process dies.
    pub fn start(data_dir: &Path, options: StartOptions) -> Result<Self, EmbeddedError> {
        let bin_dir = Self::find_binaries()?;
        let run_as = server_user()?;

        fs::create_dir_all(data_dir)
            .map_err(io_error(format!("cannot create {}", data_dir.display())))?;
        // Absolute paths: the server chdirs into the data directory and the socket directory
        // must not depend on our working directory.
        let data_dir = fs::canonicalize(data_dir)
            .map_err(io_error(format!("cannot resolve {}", data_dir.display())))?;
        if let Some(user) = &run_as {
            check_traversable(&data_dir, user)?;
            give_to(&data_dir, user)?;
        }

        // Without the lock, two processes starting on the same fresh directory would both run
        // initdb, or both start a server and one would fail on postmaster.pid. The lock is on the
        // directory itself because initdb refuses a directory containing any file. std opens
        // with O_CLOEXEC, so the server does not inherit (and keep holding) the lock.
        let lock = File::open(&data_dir)
            .map_err(io_error(format!("cannot open {}", data_dir.display())))?;
        lock.lock()
            .map_err(io_error(format!("cannot lock {}", data_dir.display())))?;
        let started = start_locked(&bin_dir, &data_dir, run_as.as_ref(), &options);
        drop(lock);
        started
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's Unix socket, `postgres://postgres@localhost:{port}/{database}?host={data_dir}`,
    /// or `postgres://postgres@127.0.0.1:{port}/{database}` when the directory's path cannot hold
    /// one. The server and the service share the machine: a statement's round trip over the
    /// socket skips the loopback's TCP stack, a good part of the kernel's 28 % of the machine
    /// in the opening-day rush (BENCHMARKS.md, fourteenth round).
    pub fn url(&self, database: &str) -> String {
        cluster_url(&self.data_dir, self.port, database)
    }

    /// Whether this handle started the server and is therefore the one that stops it; an
    /// attached handle leaves the server to its owner.
    pub fn owns_server(&self) -> bool {
        self.owns_server
    }

    /// Process id of the server (the postmaster).
    pub fn pid(&self) -> u32 {
        self.pid.unsigned_abs()
    }

    /// The cluster's directory (absolute).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Where the server's stdout and stderr go: `<data_dir>/postgres.log`, appended to.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Fast shutdown (SIGINT: running transactions are aborted, data is kept) of an owned
    /// server, waiting up to 30 s before escalating to SIGQUIT and finally SIGKILL. Does
    /// nothing for an attached handle or a server already stopped.
    pub fn stop(&mut self) -> Result<(), EmbeddedError> {
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        let pid = self.pid;
        let reap_error = || io_error(format!("cannot wait for the PostgreSQL server (pid {pid})"));

        if child.try_wait().map_err(reap_error())?.is_none() {
            tracing::info!(pid, data_dir = %self.data_dir.display(), "stopping PostgreSQL");
            send_signal(pid, Signal::SIGINT)?;
            if !exits_within(child, STOP_TIMEOUT).map_err(reap_error())? {
                tracing::warn!(pid, "PostgreSQL ignored fast shutdown; sending SIGQUIT");
                send_signal(pid, Signal::SIGQUIT)?;
                if !exits_within(child, QUIT_TIMEOUT).map_err(reap_error())? {
                    tracing::warn!(pid, "PostgreSQL ignored SIGQUIT; killing it");
                    // Err only means it has exited meanwhile; wait() below reaps it either way.
                    let _ = child.kill();
                    child.wait().map_err(reap_error())?;
                }
            }
        }
        self.child = None;
        Ok(())
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            tracing::warn!(%error, "could not stop the embedded PostgreSQL server");
        }
    }
}

fn start_locked(
    bin_dir: &Path,
    data_dir: &Path,
    run_as: Option<&User>,
    options: &StartOptions,
) -> Result<EmbeddedPostgres, EmbeddedError> {
    let log_path = data_dir.join(LOG_FILE_NAME);
    let deadline = Instant::now() + READY_TIMEOUT;

    if let Some(pid) = live_postmaster(data_dir) {
        // A server found running may still be starting (wait for it) or shutting down (wait for
        // it to go, then start our own).
        if let Some(port) = wait_attached(data_dir, &log_path, pid, deadline)? {
            tracing::info!(pid, port, data_dir = %data_dir.display(), "attached to running PostgreSQL");
            return Ok(EmbeddedPostgres {
                data_dir: data_dir.to_path_buf(),
                log_path,
                port,
                pid,
                owns_server: false,
                child: None,
            });
        }
    }

    if !data_dir.join("PG_VERSION").exists() {
        initdb(bin_dir, data_dir, run_as, options)?;
    }

    let mut attempt = 1;
    loop {
        let port = free_port()?;
        let log_start = fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let mut child = spawn_server(bin_dir, data_dir, &log_path, port, run_as, options)?;
        let pid = child.id() as i32;
        match wait_owned(&mut child, data_dir, port, deadline) {
            Ok(()) => {
                tracing::info!(pid, port, data_dir = %data_dir.display(), "started PostgreSQL");
                return Ok(EmbeddedPostgres {
                    data_dir: data_dir.to_path_buf(),
                    log_path,
                    port,
                    pid,
                    owns_server: true,
                    child: Some(child),
                });
            }
            Err(Startup::Exited(status)) => {
                let log_tail = log_tail(&log_path, log_start);
                if attempt < PORT_ATTEMPTS && log_tail.contains("could not bind") {
                    tracing::warn!(port, "port taken before PostgreSQL could bind it; retrying");
                    attempt += 1;
                    continue;
                }
                return Err(EmbeddedError::ServerExited {
                    data_dir: data_dir.to_path_buf(),
                    log_path,
                    status,
                    log_tail,
                });
            }
            Err(Startup::TimedOut) => {
                // Leaving a half-started server behind would make the next start attach to it.
                let mut half_started = EmbeddedPostgres {
                    data_dir: data_dir.to_path_buf(),
                    log_path: log_path.clone(),
                    port,
                    pid,
                    owns_server: true,
                    child: Some(child),
                };
                let _ = half_started.stop();
                return Err(EmbeddedError::StartTimeout {
                    data_dir: data_dir.to_path_buf(),
                    log_tail: log_tail(&log_path, log_start),
                    log_path,
                });
            }
            Err(Startup::Wait(source)) => {
                return Err(EmbeddedError::Io {
                    context: format!("cannot watch the PostgreSQL server (pid {pid})"),
                    source,
                })
            }
        }
    }
}

fn initdb(
    bin_dir: &Path,
    data_dir: &Path,
    run_as: Option<&User>,
    options: &StartOptions,
) -> Result<(), EmbeddedError> {
    tracing::info!(data_dir = %data_dir.display(), "initialising PostgreSQL cluster");
    let mut cmd = Command::new(bin_dir.join("initdb"));
    cmd.args(["-U", "postgres", "--auth=trust", "--encoding=UTF8"])
        .args(["--locale=C", "-D"])
        .arg(data_dir)
        .stdin(Stdio::null());
    // Our own working directory may be unreadable by the server user (e.g. /root).
    cmd.current_dir(data_dir);
    if options.fast_unsafe {
        cmd.arg("--no-sync");
    }
    if let Some(user) = run_as {
        cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    let output = cmd.output().map_err(io_error(format!(
        "cannot run {}",
        bin_dir.join("initdb").display()
    )))?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Err(EmbeddedError::InitdbFailed {
        data_dir: data_dir.to_path_buf(),
        status: output.status,
        output: text.trim_end().to_owned(),
    })
}

fn spawn_server(
    bin_dir: &Path,
    data_dir: &Path,
    log_path: &Path,
    port: u16,
    run_as: Option<&User>,
    options: &StartOptions,
) -> Result<Child, EmbeddedError> {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .map_err(io_error(format!("cannot open {}", log_path.display())))?;
    if let Some(user) = run_as {
        // Keeps the whole data directory owned by the server user, as PostgreSQL tools expect.
        give_to(log_path, user)?;
    }
    let log_for_stderr = log
        .try_clone()
        .map_err(io_error(format!("cannot reopen {}", log_path.display())))?;

    let mut cmd = Command::new(bin_dir.join("postgres"));
    cmd.arg("-D")
        .arg(data_dir)
        .arg("-p")
        .arg(port.to_string())
        .args(["-c", "listen_addresses=127.0.0.1", "-c"])
        .arg(socket_directories_setting(data_dir));
    if options.fast_unsafe {
        cmd.args([
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]);
    }
    if let Some(max) = options.max_connections {
        cmd.arg("-c").arg(format!("max_connections={max}"));
    }
    for setting in &options.settings {
        cmd.arg("-c").arg(setting);
    }
    cmd.current_dir(data_dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_for_stderr)
        .process_group(0);
    if let Some(user) = run_as {
        // std switches gid, then drops supplementary groups and switches uid, all before the
        // pre_exec hook below.
        cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    let parent = std::process::id();
    // SAFETY: the hook runs between fork and exec, so it may only make async-signal-safe
    // calls: prctl(2), getppid(2) and building an io::Error from an errno (no allocation).
    unsafe {
        cmd.pre_exec(move || {
            // Set after the credential change, which would clear it.
            nix::sys::prctl::set_pdeathsig(Signal::SIGINT)?;
            // The parent may have died before the signal was armed; then nobody would stop us.
            if nix::unistd::getppid().as_raw().unsigned_abs() != parent {
                return Err(Errno::ESRCH.into());
            }
            Ok(())
        });
    }
    spawn_from_long_lived_thread(cmd).map_err(io_error(format!(
        "cannot start {}",
        bin_dir.join("postgres").display()
    )))
}

/// Forks `cmd` from a thread that never exits, so that the child's parent-death signal is
/// tied to the life of the process rather than to the calling thread.
fn spawn_from_long_lived_thread(cmd: Command) -> io::Result<Child> {
    type Request = (Command, mpsc::Sender<io::Result<Child>>);
    // The sender is never dropped (statics are not), so the thread's loop never ends.
    static SPAWNER: Mutex<Option<mpsc::Sender<Request>>> = Mutex::new(None);

    let sender = {
        let mut guard = SPAWNER.lock().unwrap_or_else(PoisonError::into_inner);
        match guard.as_ref() {
            Some(sender) => sender.clone(),
            None => {
                let (sender, requests) = mpsc::channel::<Request>();
                thread::Builder::new()
                    .name("pg-embedded-spawner".into())
                    .spawn(move || {
                        for (mut cmd, reply) in requests {
                            // The requester may have gone; the child is then dropped unreaped,
                            // and its parent-death signal still stops it when we exit.
                            let _ = reply.send(cmd.spawn());
                        }
                    })?;
                *guard = Some(sender.clone());
                sender
            }
        }
    };
    let (reply, response) = mpsc::channel();
    sender
        .send((cmd, reply))
        .map_err(|_| io::Error::other("the PostgreSQL spawner thread has stopped"))?;
    response
        .recv()
        .map_err(|_| io::Error::other("the PostgreSQL spawner thread has stopped"))?
}

enum Startup {
    Exited(ExitStatus),
    TimedOut,
    Wait(io::Error),
}

fn wait_owned(
    child: &mut Child,
    data_dir: &Path,
    port: u16,
    deadline: Instant,
) -> Result<(), Startup> {
    let pid = child.id() as i32;
    loop {
        if let Some(status) = child.try_wait().map_err(Startup::Wait)? {
            return Err(Startup::Exited(status));
        }
        // Checking the pid guards against a stale postmaster.pid left "ready" by a crash.
        if let Some(file) = read_pid_file(data_dir) {
            if file.pid == pid && file.status == "ready" && accepts_tcp(port) {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(Startup::TimedOut);
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// `Some(port)` once the running server accepts connections; `None` if it went away.
fn wait_attached(
    data_dir: &Path,
    log_path: &Path,
    pid: i32,
    deadline: Instant,
) -> Result<Option<u16>, EmbeddedError> {
    loop {
        if !process_alive(pid) {
            return Ok(None);
        }
        if let Some(file) = read_pid_file(data_dir) {
            if file.pid != pid {
                return Ok(None);
            }
            if let (Some(port), "ready") = (file.port, file.status.as_str()) {
                if accepts_tcp(port) {
                    return Ok(Some(port));
                }
            }
        }
        if Instant::now() >= deadline {
            return Err(EmbeddedError::StartTimeout {
                data_dir: data_dir.to_path_buf(),
                log_path: log_path.to_path_buf(),
                log_tail: log_tail(log_path, 0),
            });
        }
        thread::sleep(POLL_INTERVAL);
    }
}

struct PidFile {
    pid: i32,
    port: Option<u16>,
    status: String,
}

/// Reads postmaster.pid: line 1 pid, line 4 port, line 8 status ("starting", "ready",
/// "stopping", "standby"; padded with spaces).
fn read_pid_file(data_dir: &Path) -> Option<PidFile> {
    let text = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    Some(PidFile {
        pid: lines.first()?.parse().ok()?,
        port: lines.get(3).and_then(|l| l.parse().ok()),
        status: lines.get(7).copied().unwrap_or_default().to_owned(),
    })
}

/// The pid of a postmaster running on `data_dir`, if any. A stale postmaster.pid is left alone:
/// the server replaces it itself when it starts.
fn live_postmaster(data_dir: &Path) -> Option<i32> {
    let pid = read_pid_file(data_dir)?.pid;
    // A negative pid marks a single-user backend, which cannot be attached to.
    if pid <= 0 || !process_alive(pid) {
        return None;
    }
    // After a crash and reboot the pid may belong to an unrelated process.
    match fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) if !(comm.starts_with("postgres") || comm.starts_with("postmaster")) => None,
        _ => Some(pid),
    }
}

/// Alive means signalable and not a zombie: a server whose owner died is reparented, and a
/// reaper that is slow (or absent, in some containers) leaves zombies that kill(2) still finds.
fn process_alive(pid: i32) -> bool {
    match signal::kill(Pid::from_raw(pid), None) {
        // EPERM: alive but owned by another user.
        Ok(()) | Err(Errno::EPERM) => {}
        Err(_) => return false,
    }
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name, which may itself contain ") ".
        Ok(stat) => !stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        Err(_) => true,
    }
}

fn send_signal(pid: i32, signal: Signal) -> Result<(), EmbeddedError> {
    match signal::kill(Pid::from_raw(pid), signal) {
        // Already exited: the caller's wait reaps it.
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(source) => Err(EmbeddedError::Signal {
            pid,
            signal,
            source,
        }),
    }
}

/// Whether `child` exited (and was reaped) within `timeout`.
fn exits_within(child: &mut Child, timeout: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        if child.try_wait()?.is_some() {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        thread::sleep(POLL_INTERVAL);
    }
}

fn accepts_tcp(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

fn free_port() -> Result<u16, EmbeddedError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(io_error("cannot find a free TCP port on 127.0.0.1"))
}

/// Where the server puts its Unix socket: the data directory, unless its path is too long for a
/// socket's address (the server would refuse to start) or not UTF-8 (a URL could not name it).
fn socket_dir(data_dir: &Path) -> Option<&str> {
    data_dir
        .to_str()
        .filter(|dir| dir.len() <= MAX_SOCKET_DIR_LEN)
}

fn cluster_url(data_dir: &Path, port: u16, database: &str) -> String {
    match socket_dir(data_dir) {
        Some(dir) => format!(
            "postgres://postgres@localhost:{port}/{database}?host={}",
            percent_encoding::utf8_percent_encode(dir, URL_QUERY_VALUE)
        ),
        None => format!("postgres://postgres@127.0.0.1:{port}/{database}"),
    }
}

/// A path as the value of a URL's query parameter: sqlx and libpq both decode `%XX` (and only
/// libpq would take a `+` literally), so everything but letters, digits and `/._-~` is escaped.
const URL_QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'.')
    .remove(b'_')
    .remove(b'-')
    .remove(b'~');

fn socket_directories_setting(data_dir: &Path) -> String {
    let Some(dir) = socket_dir(data_dir) else {
        // TCP alone is enough for us.
        tracing::warn!(
            data_dir = %data_dir.display(),
            "data directory path too long (or not UTF-8) for a unix socket; listening on TCP only"
        );
        return "unix_socket_directories=".to_owned();
    };
    // The setting is a comma-separated list; quoting keeps commas and spaces in the path.
    format!("unix_socket_directories=\"{}\"", dir.replace('"', "\"\""))
}

/// When running as root, the user the server must run as instead.
fn server_user() -> Result<Option<User>, EmbeddedError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match User::from_name("postgres") {
        Ok(Some(user)) => Ok(Some(user)),
        Ok(None) => Err(EmbeddedError::NoPostgresUser),
        Err(errno) => Err(EmbeddedError::Io {
            context: "cannot look up the `postgres` user".to_owned(),
            source: errno.into(),
        }),
    }
}

fn give_to(path: &Path, user: &User) -> Result<(), EmbeddedError> {
    std::os::unix::fs::chown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw())).map_err(
        io_error(format!(
            "cannot give {} to user {}",
            path.display(),
            user.name
        )),
    )
}

/// Root can traverse anything, so a data directory under e.g. /root only fails once the server
/// runs as `postgres`, with a less direct message; check up front. std drops supplementary
/// groups when switching user, so only owner, primary group and other bits count.
fn check_traversable(data_dir: &Path, user: &User) -> Result<(), EmbeddedError> {
    for dir in data_dir.ancestors().skip(1) {
        let meta =
            fs::metadata(dir).map_err(io_error(format!("cannot inspect {}", dir.display())))?;
        let mode = meta.permissions().mode();
        let searchable = if meta.uid() == user.uid.as_raw() {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid.as_raw() {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !searchable {
            return Err(EmbeddedError::NotTraversable {
                user: user.name.clone(),
                data_dir: data_dir.to_path_buf(),
                blocking: dir.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// The last lines the server wrote since byte `from` of its log.
fn log_tail(log_path: &Path, from: u64) -> String {
    const MAX_BYTES: u64 = 16 * 1024;
    let read = || -> io::Result<String> {
        let mut file = File::open(log_path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(from.max(len.saturating_sub(MAX_BYTES))))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
            if tail.trim().is_empty() {
                "(the server wrote nothing)".to_owned()
            } else {
                tail
            }
        }
        Err(error) => format!("(cannot read {}: {error})", log_path.display()),
    }
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn is_server_bin_dir(dir: &Path) -> bool {
    is_executable(&dir.join("postgres")) && is_executable(&dir.join("initdb"))
}

fn bin_dir_from_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .find_map(|dir| {
            let initdb = dir.join("initdb");
            if !is_executable(&initdb) {
                return None;
            }
            // Prefer the real directory behind a symlinked initdb (as in /usr/local/bin), where
            // the server's companion tools live too.
            let real = fs::canonicalize(&initdb)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf));
            real.into_iter()
                .chain([dir])
                .find(|d| is_executable(&d.join("postgres")))
        })
}

fn newest_debian_bin_dir() -> Option<PathBuf> {
    fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = parse_version(entry.file_name().to_str()?)?;
            let bin = entry.path().join("bin");
            is_server_bin_dir(&bin).then_some((version, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin)
}

/// "15" -> [15], "9.6" -> [9, 6]: compared numerically, so 10 sorts above 9.6.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

fn bin_dir_from_pg_config() -> Option<PathBuf> {
    let output = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    is_server_bin_dir(&dir).then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    const HELPER_DIR_ENV: &str = "CANTINE_PG_EMBEDDED_HELPER_DIR";
    const READY_MARKER: &str = "PG_EMBEDDED_READY ";

    /// A failing test must not leave its helper process (and the server) running.
    struct KillOnDrop(Child);

    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// Removes the cluster directory at the end, killing a server the test failed to stop so
    /// that a failing run leaves nothing behind.
    struct TempCluster(PathBuf);

    impl Drop for TempCluster {
        fn drop(&mut self) {
            if let Some(pid) = live_postmaster(&self.0) {
                let _ = signal::kill(Pid::from_raw(pid), Signal::SIGQUIT);
                let deadline = Instant::now() + Duration::from_secs(10);
                while process_alive(pid) && Instant::now() < deadline {
                    thread::sleep(POLL_INTERVAL);
                }
            }
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn temp_cluster_dir() -> TempCluster {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        // Short, under /tmp: unix socket paths are limited and /tmp is traversable by the
        // postgres user when the tests run as root.
        TempCluster(PathBuf::from(format!(
            "/tmp/cantine-pg-{}-{nanos:x}",
            std::process::id()
        )))
    }

    fn psql_select_1(port: u16) -> String {
        psql_select_1_with(&["-h", "127.0.0.1", "-U", "postgres", "-p", &port.to_string()])
    }

    fn psql_select_1_at(url: &str) -> String {
        psql_select_1_with(&[url])
    }

    fn psql_select_1_with(connection: &[&str]) -> String {
        let bundled = EmbeddedPostgres::find_binaries()
            .expect("binaries")
            .join("psql");
        let psql = if is_executable(&bundled) {
            bundled
        } else {
            PathBuf::from("/usr/bin/psql")
        };
        let output = Command::new(&psql)
            .args(["-X", "-A", "-t"])
            .args(connection)
            .args(["-c", "select 1"])
            .env("PGCONNECT_TIMEOUT", "5")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", psql.display()));
        assert!(
            output.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(parse_version("10") > parse_version("9.6"));
        assert!(parse_version("15") > parse_version("9.6"));
        assert_eq!(parse_version("main"), None);
    }

    #[test]
    fn socket_directory_is_quoted_or_dropped_when_too_long() {
        assert_eq!(
            socket_directories_setting(Path::new("/tmp/a,b")),
            "unix_socket_directories=\"/tmp/a,b\""
        );
        let long = PathBuf::from(format!("/tmp/{}", "x".repeat(100)));
        assert_eq!(
            socket_directories_setting(&long),
            "unix_socket_directories="
        );
    }

    #[test]
    fn the_url_names_the_socket_escaped_or_tcp_when_there_is_none() {
        assert_eq!(
            cluster_url(Path::new("/tmp/a b,c&d%"), 5433, "cantine"),
            "postgres://postgres@localhost:5433/cantine?host=/tmp/a%20b%2Cc%26d%25"
        );
        let long = PathBuf::from(format!("/tmp/{}", "x".repeat(100)));
        assert_eq!(
            cluster_url(&long, 5433, "cantine"),
            "postgres://postgres@127.0.0.1:5433/cantine"
        );
        // sqlx reads the escaped directory back as the socket's.
        let options: sqlx::postgres::PgConnectOptions =
            cluster_url(Path::new("/tmp/a b,c&d%"), 5433, "cantine")
                .parse()
                .expect("a URL sqlx reads");
        assert_eq!(options.get_socket(), Some(&PathBuf::from("/tmp/a b,c&d%")));
        assert_eq!(options.get_port(), 5433);
    }

    /// Not missing binaries silently: a machine without PostgreSQL fails here with the message
    /// telling how to install it.
    #[test]
    fn start_attach_stop_and_parent_death() {
        let bin_dir = EmbeddedPostgres::find_binaries().unwrap_or_else(|e| panic!("{e}"));
        assert!(is_server_bin_dir(&bin_dir));
        let dir = temp_cluster_dir();
        let options = StartOptions {
            fast_unsafe: true,
            max_connections: Some(20),
            ..StartOptions::default()
        };

        let mut owner = EmbeddedPostgres::start(&dir.0, options.clone())
            .unwrap_or_else(|e| panic!("start: {e}"));
        assert!(owner.owns_server());
        assert!(dir.0.join("PG_VERSION").is_file());
        assert_eq!(psql_select_1(owner.port()), "1");
        // The URL names the server's socket, and libpq (pg_dump's) reads it as sqlx does.
        assert!(owner.url("postgres").ends_with(&format!(
            "?host={}",
            percent_encoding::utf8_percent_encode(dir.0.to_str().unwrap(), URL_QUERY_VALUE)
        )));
        assert!(dir.0.join(format!(".s.PGSQL.{}", owner.port())).exists());
        assert_eq!(psql_select_1_at(&owner.url("postgres")), "1");

        let mut attached = EmbeddedPostgres::start(&dir.0, options.clone())
            .unwrap_or_else(|e| panic!("attach: {e}"));
        assert!(!attached.owns_server());
        assert_eq!(attached.port(), owner.port());
        assert_eq!(attached.pid(), owner.pid());
        attached.stop().expect("stop attached");
        drop(attached);
        assert_eq!(
            psql_select_1(owner.port()),
            "1",
            "attached stop must not stop the server"
        );

        let pid = owner.pid() as i32;
        owner.stop().expect("stop owner");
        owner.stop().expect("second stop is a no-op");
        assert!(!process_alive(pid), "server still running after stop");
        assert!(!dir.0.join("postmaster.pid").exists());

        check_parent_death(&dir.0);
    }

    /// Starts the server in a child test process, from a thread that then exits, SIGKILLs that
    /// process and expects the server to shut down by itself.
    fn check_parent_death(data_dir: &Path) {
        let test_path = module_path!().split_once("::").map_or("", |(_, rest)| rest);
        let exe = std::env::current_exe().expect("test executable");
        let mut helper = KillOnDrop(
            Command::new(exe)
                .args(["--exact", &format!("{test_path}::parent_death_helper")])
                .args(["--ignored", "--nocapture", "--test-threads=1"])
                .env(HELPER_DIR_ENV, data_dir)
                .stdout(Stdio::piped())
                .stdin(Stdio::null())
                .spawn()
                .expect("spawn helper"),
        );
        let stdout = helper.0.stdout.take().expect("helper stdout");
        let (lines, ready) = mpsc::channel();
        thread::spawn(move || {
            for line in io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let port: u16 = loop {
            let line = ready
                .recv_timeout(Duration::from_secs(30))
                .expect("helper did not report a started server");
            // libtest prints "test <name> ... " without a newline before running the test.
            if let Some((_, port)) = line.split_once(READY_MARKER) {
                break port.trim().parse().expect("port");
            }
        };
        let pid = read_pid_file(data_dir).expect("postmaster.pid").pid;
        // The spawning thread in the helper has exited by now: the server must have survived it.
        thread::sleep(Duration::from_millis(200));
        assert!(process_alive(pid));
        assert_eq!(psql_select_1(port), "1");

        helper.0.kill().expect("SIGKILL helper");
        helper.0.wait().expect("reap helper");
        let deadline = Instant::now() + Duration::from_secs(15);
        while process_alive(pid) && Instant::now() < deadline {
            thread::sleep(POLL_INTERVAL);
        }
        assert!(
            !process_alive(pid),
            "server (pid {pid}) outlived its SIGKILLed parent"
        );
    }

    /// Run only by `check_parent_death` in a child process; a no-op otherwise.
    #[test]
    #[ignore = "helper process for start_attach_stop_and_parent_death"]
    fn parent_death_helper() {
        let Some(dir) = std::env::var_os(HELPER_DIR_ENV) else {
            return;
        };
        let options = StartOptions {
            fast_unsafe: true,
            ..StartOptions::default()
        };
        let server = thread::spawn(move || EmbeddedPostgres::start(Path::new(&dir), options))
            .join()
            .expect("starter thread")
            .unwrap_or_else(|e| panic!("helper start: {e}"));
        assert!(server.owns_server());
        println!("\n{READY_MARKER}{}", server.port());
        loop {
            thread::sleep(Duration::from_secs(1));
        }
    }
}
