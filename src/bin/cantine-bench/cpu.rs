//! The CPU the rush cost: the server's, PostgreSQL's and the benchmark's own, from `/proc`.
//!
//! Commands per second say how fast the rush went, not where the work went: the CPU per
//! command splits it between the server and the database, and shows work a change saves even
//! when the cores are not all busy (16 clients). It drifts with the machine too (a core shared
//! with a busy neighbour does less in a second of CPU), so runs are still alternated.

use std::time::Duration;

/// CPU time (user and system) used so far, in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sample {
    servers: u64,
    database: u64,
    clients: u64,
}

/// CPU time used between two samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Used {
    /// The `cantine serve` processes.
    pub servers: Duration,
    /// The PostgreSQL cluster: its postmaster and every process it started (backends,
    /// checkpointer, WAL writer...), those that ended meanwhile included.
    pub database: Duration,
    /// This process: the HTTP clients and the lag sampler.
    pub clients: Duration,
}

/// Measures from its start; `None` where `/proc` does not tell.
pub struct Meter {
    server_pids: Vec<u32>,
    postmaster: u32,
    start: Sample,
}

impl Meter {
    /// `backend`: the PID of a backend of the benchmark's cluster, whose parent is its
    /// postmaster (the cluster runs on this machine, a private one or `--database-url`'s).
    pub fn start(server_pids: Vec<u32>, backend: u32) -> Option<Self> {
        let postmaster = Stat::of(backend)?.parent;
        let start = sample(&server_pids, postmaster)?;
        Some(Meter {
            server_pids,
            postmaster,
            start,
        })
    }

    /// The CPU used since the start, unless a server was replaced meanwhile (the crash drill):
    /// its CPU before the kill is not counted anywhere.
    pub fn stop(self, server_pids: &[u32]) -> Option<Used> {
        if server_pids != self.server_pids {
            return None;
        }
        let end = sample(server_pids, self.postmaster)?;
        let ticks = |a: u64, b: u64| ticks_to_duration(b.saturating_sub(a));
        Some(Used {
            servers: ticks(self.start.servers, end.servers),
            database: ticks(self.start.database, end.database),
            clients: ticks(self.start.clients, end.clients),
        })
    }
}

fn ticks_to_duration(ticks: u64) -> Duration {
    // SAFETY: sysconf only reads a constant of the system.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = if per_second > 0 {
        per_second as u64
    } else {
        100
    };
    Duration::from_secs_f64(ticks as f64 / per_second as f64)
}

fn sample(server_pids: &[u32], postmaster: u32) -> Option<Sample> {
    let servers = server_pids
        .iter()
        .map(|pid| Stat::of(*pid).map(|s| s.own + s.children))
        .sum::<Option<u64>>()?;
    // Children that ended were added to the postmaster's `children` when it reaped them.
    let master = Stat::of(postmaster)?;
    let mut database = master.own + master.children;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(stat) = Stat::of(pid).filter(|s| s.parent == postmaster) {
            database += stat.own + stat.children;
        }
    }
    let clients = Stat::of(std::process::id())?;
    Some(Sample {
        servers,
        database,
        clients: clients.own,
    })
}

/// What `/proc/<pid>/stat` says of a process's CPU, in clock ticks.
#[derive(Debug, PartialEq)]
struct Stat {
    parent: u32,
    /// Its own user and system time, every thread's.
    own: u64,
    /// The user and system time of its children that ended and were waited for.
    children: u64,
}

impl Stat {
    fn of(pid: u32) -> Option<Stat> {
        Stat::parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// The fields after the command's name, which may hold spaces and parentheses: its end is
    /// the last `)`. Then state, parent, ... utime and stime are the 14th and 15th fields of
    /// the line, cutime and cstime the 16th and 17th (proc(5)).
    fn parse(line: &str) -> Option<Stat> {
        let fields: Vec<&str> = line[line.rfind(')')? + 1..].split_whitespace().collect();
        let number = |i: usize| fields.get(i)?.parse::<u64>().ok();
        Some(Stat {
            parent: fields.get(1)?.parse().ok()?,
            own: number(11)? + number(12)?,
            children: number(13)? + number(14)?,
        })
    }
}

/// The report's line: each one's CPU, and the servers' and the database's per command.
pub fn line(used: Option<&Used>, commands: u64) -> String {
    let Some(used) = used else {
        return "CPU during the rush: not measured (a server replaced by the crash drill, or no \
                /proc)"
            .to_string();
    };
    let per_command = |d: Duration| d.as_secs_f64() * 1000.0 / commands.max(1) as f64;
    format!(
        "CPU during the rush, until the projections caught up (s): server {:.1}, PostgreSQL \
         {:.1}, the benchmark's clients {:.1} → per command (ms): server {:.2}, PostgreSQL {:.2}",
        used.servers.as_secs_f64(),
        used.database.as_secs_f64(),
        used.clients.as_secs_f64(),
        per_command(used.servers),
        per_command(used.database),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_is_read_past_a_name_with_spaces_and_parentheses() {
        let line = "4242 (postgres: a (b) c) S 17 4242 4242 0 -1 4194560 1503 0 0 0 \
                    250 75 30 12 20 0 1 0 123 456 789";
        assert_eq!(
            Stat::parse(line),
            Some(Stat {
                parent: 17,
                own: 325,
                children: 42
            })
        );
        assert_eq!(Stat::parse("4242 (cut short) S 17"), None);
    }

    #[test]
    fn this_process_is_sampled_and_its_cpu_only_grows() {
        let me = std::process::id();
        let meter = Meter {
            server_pids: vec![me],
            postmaster: Stat::of(me).unwrap().parent,
            start: sample(&[me], Stat::of(me).unwrap().parent).unwrap(),
        };
        let mut spin = 0u64;
        let busy = std::time::Instant::now();
        while busy.elapsed() < Duration::from_millis(100) {
            spin = spin.wrapping_add(std::hint::black_box(1));
        }
        let used = meter.stop(&[me]).unwrap();
        assert!(used.clients > Duration::ZERO, "{used:?} after {spin} turns");
        assert!(
            used.servers > Duration::ZERO,
            "the same process, as a server"
        );
        assert!(Meter::start(vec![me], me).is_some());
    }

    #[test]
    fn a_server_replaced_meanwhile_is_not_measured() {
        let me = std::process::id();
        let meter = Meter::start(vec![me], me).unwrap();
        assert_eq!(meter.stop(&[me, me]), None);
        assert!(line(None, 10).contains("not measured"));
    }
}
