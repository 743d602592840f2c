//! The printed figures (bench.md "What it prints"), the invariants, and the last line
//! `ratio: <commands/s ÷ pgbench TPS>`.

use std::time::Duration;

use crate::ceiling::Ceiling;
use crate::invariants::Check;
use crate::replay::Replay;
use crate::setup::Reference;
use crate::workload::{Outcome, Route, Settle};
use crate::Args;

pub struct Report<'a> {
    pub args: &'a Args,
    pub machine: &'a str,
    pub reference: &'a Reference,
    pub setup_secs: f64,
    pub outcome: &'a Outcome,
    pub settle: &'a Settle,
    pub peak_rss_kib: Vec<u64>,
    pub login_peak_rss_kib: Vec<u64>,
    pub start_rss_kib: Vec<u64>,
    pub replay: &'a Replay,
    pub ceiling: Option<&'a Ceiling>,
    pub checks: &'a [Check],
    /// The live projectors' batches during the workload.
    pub projectors: &'a crate::projector_times::Scrape,
}

/// The value at quantile `q` of sorted values (nearest rank).
pub fn quantile<T: Copy + Default>(sorted: &[T], q: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The families that booked one at a time once the rush was over: the server's time for each
/// request with nothing queued in front of it.
fn print_alone(o: &Outcome) {
    let a = &o.alone;
    if o.alone_families == 0 {
        return;
    }
    println!();
    println!(
        "after the rush, {} families one at a time (1 client; not in the figures above): \
         server time per request (ms)",
        o.alone_families
    );
    for (route, values) in &a.server_times {
        let mut sorted = values.clone();
        sorted.sort_unstable();
        println!(
            "  {:<34} {:>5} requests   p50 {:>6.1}   max {:>6.1}",
            route.label(),
            sorted.len(),
            ms(quantile(&sorted, 0.50)),
            ms(*sorted.last().unwrap_or(&0)),
        );
    }
    let errors: u64 = a.errors.values().sum();
    if errors > 0 || a.abandoned_families > 0 {
        println!(
            "  refusals and failures: {errors}; families abandoned: {}",
            a.abandoned_families
        );
    }
}

/// The open-loop phase (`--rate`), beside the closed loop's figures above.
fn print_open_loop(o: &Outcome) {
    let Some(open) = &o.open else { return };
    let s = &open.stats;
    let wall = open.wall.as_secs_f64().max(1e-9);
    let answered: usize = s.latencies.values().map(Vec::len).sum();
    println!();
    let asked = match open.rate {
        crate::open_loop::Rate::PerSecond(r) => format!("--rate {r}"),
        crate::open_loop::Rate::OfClosedLoop(p) => format!("--rate {p}%"),
    };
    println!(
        "open loop ({asked}): {} families (the second half; the closed loop above ran the first) \
         started on a fixed schedule whatever the answers, {:.2} families/s scheduled = {:.0} % \
         of the closed loop's {:.2} families/s",
        open.families,
        open.scheduled_rate,
        100.0 * open.scheduled_rate / open.closed_loop_rate.max(1e-9),
        open.closed_loop_rate
    );
    println!(
        "achieved: {:.2} families/s started (latest start {:.1} ms behind its schedule); \
         {answered} requests answered in {wall:.2} s → {:.0} requests/s ({:.0} % of the closed \
         loop's {:.0} requests/s), {:.0} commands/s",
        open.achieved_start_rate,
        ms_of(open.start_lateness),
        answered as f64 / wall,
        100.0 * (answered as f64 / wall) / open.closed_loop_requests_rate.max(1e-9),
        open.closed_loop_requests_rate,
        s.commands_ok as f64 / wall,
    );
    println!(
        "{:<34} {:>7} {:>9} {:>9} {:>9} {:>7}",
        "open-loop latency per route (ms)", "count", "p50", "p99", "max", "errors"
    );
    let mut rows: Vec<(&str, Vec<u32>, u64)> = s
        .latencies
        .iter()
        .map(|(route, values)| {
            let errors = s
                .errors
                .iter()
                .filter(|((r2, _, _), _)| r2 == route)
                .map(|(_, n)| n)
                .sum();
            (route.label(), values.clone(), errors)
        })
        .collect();
    rows.push((
        "all routes",
        s.latencies.values().flatten().copied().collect(),
        s.errors.values().sum(),
    ));
    for (label, mut sorted, errors) in rows {
        sorted.sort_unstable();
        println!(
            "{:<34} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>7}",
            label,
            sorted.len(),
            ms(quantile(&sorted, 0.50)),
            ms(quantile(&sorted, 0.99)),
            ms(*sorted.last().unwrap_or(&0)),
            errors,
        );
    }
    println!(
        "(from each request's scheduled time: a family's first request at t0 + i / rate, each \
         next one at the instant the answer it needs arrived; a late send counts against the \
         service: no coordinated omission)"
    );
    println!(
        "server errors (5xx): {}; day_full refusals: {}; families abandoned: {}",
        s.server_errors(),
        s.day_full,
        s.abandoned_families
    );
    if let Some(failure) = &s.first_failure {
        println!("first failure that made a family give up: {failure}");
    }
}

fn ms(micros: u32) -> f64 {
    micros as f64 / 1000.0
}

fn ms_of(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What this machine is, for BENCHMARKS.md.
pub async fn machine(pool: &sqlx::PgPool) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map(|kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(pool)
        .await
        .unwrap_or_default();
    let fsync: String = sqlx::query_scalar("SHOW fsync")
        .fetch_one(pool)
        .await
        .unwrap_or_default();
    let sync_commit: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(pool)
        .await
        .unwrap_or_default();
    format!(
        "{cores} cores ({model}), {memory}; PostgreSQL {version} (fsync={fsync}, \
         synchronous_commit={sync_commit}); server, database and clients share the cores"
    )
}

/// Prints everything; answers whether every invariant held.
pub fn print(r: Report<'_>) -> bool {
    let o = r.outcome;
    let s = &o.stats;
    let wall = o.wall.as_secs_f64().max(1e-9);
    let children: usize = r.reference.families.iter().map(|f| f.children.len()).sum();
    let mode = match (r.args.crash_drill, r.args.servers) {
        (true, n) => format!("crash drill ({} SIGKILLs), {n} server(s)", o.kills),
        (false, 1) => "benchmark, 1 server".to_string(),
        (false, n) => format!("two-server drill, {n} servers"),
    };
    println!("== Cantine opening-day benchmark ==");
    println!("machine: {}", r.machine);
    let towns = match r.reference.towns.len() {
        1 => String::new(),
        n => format!(", {n} towns (families spread evenly, each town on its own host name)"),
    };
    println!(
        "workload: {} families, {children} children, {} clients, seed {}, {mode}{towns}",
        r.reference.families.len(),
        r.args.clients,
        r.args.seed
    );
    let periods = &r.reference.towns[0].periods;
    println!(
        "reference: {}{} restaurants, school year 2025-2026 zone C, {} service days, {} € a meal, \
         prepaid, 60-minute hold; capacities{} {}",
        match r.reference.towns.len() {
            1 => String::new(),
            n => format!("{n} towns × "),
        },
        periods.len(),
        periods.first().map(|p| p.days.len()).unwrap_or(0),
        r.reference.unit_price,
        if r.reference.towns.len() > 1 {
            " (the first town)"
        } else {
            ""
        },
        periods
            .iter()
            .map(|p| format!(
                "{} {}/{}",
                p.restaurant.trim_start_matches("Restaurant Scolaire "),
                p.children,
                p.capacity
            ))
            .collect::<Vec<_>>()
            .join(", ")
            + " (children/capacity)"
    );
    println!("setup (not measured): {:.1} s", r.setup_secs);
    println!();
    match &o.open {
        Some(_) => println!(
            "measured phase: {wall:.2} s (closed loop, {} clients, on the first half of the \
             families; the open loop is further down)",
            r.args.clients
        ),
        None => println!("measured phase: {wall:.2} s"),
    }
    println!(
        "commands: {} succeeded → {:.0} commands/s (POST requests through the whole stack)",
        s.commands_ok,
        s.commands_ok as f64 / wall
    );
    println!(
        "meals booked: {} child-days in {} reservations → {:.0} meals/s",
        s.meals_booked,
        s.reservations,
        s.meals_booked as f64 / wall
    );
    let appended = o.events_after - o.events_before;
    println!(
        "events appended: {appended} → {:.0} events/s",
        appended as f64 / wall
    );
    println!("{}", crate::cpu::line(o.cpu.as_ref(), s.commands_ok));
    println!();
    println!(
        "{:<34} {:>7} {:>9} {:>9} {:>9} {:>7}   {:>9} {:>9}",
        "latency per route (ms)", "count", "p50", "p99", "max", "errors", "server p50", "p99"
    );
    let server = |route: Option<&Route>| {
        let mut sorted: Vec<u32> = match route {
            Some(route) => s.server_times.get(route).cloned().unwrap_or_default(),
            None => s.server_times.values().flatten().copied().collect(),
        };
        sorted.sort_unstable();
        (ms(quantile(&sorted, 0.50)), ms(quantile(&sorted, 0.99)))
    };
    for (route, values) in &s.latencies {
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let errors: u64 = s
            .errors
            .iter()
            .filter(|((r2, _, _), _)| r2 == route)
            .map(|(_, n)| n)
            .sum();
        let (server_p50, server_p99) = server(Some(route));
        println!(
            "{:<34} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>7}   {:>10.1} {:>9.1}",
            route.label(),
            sorted.len(),
            ms(quantile(&sorted, 0.50)),
            ms(quantile(&sorted, 0.99)),
            ms(*sorted.last().unwrap_or(&0)),
            errors,
            server_p50,
            server_p99
        );
    }
    let mut all: Vec<u32> = s.latencies.values().flatten().copied().collect();
    all.sort_unstable();
    let (server_p50, server_p99) = server(None);
    println!(
        "{:<34} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>7}   {:>10.1} {:>9.1}",
        "all routes",
        all.len(),
        ms(quantile(&all, 0.50)),
        ms(quantile(&all, 0.99)),
        ms(*all.last().unwrap_or(&0)),
        "",
        server_p50,
        server_p99
    );
    println!(
        "(p50/p99/max: as the clients saw them, queueing on the shared cores included; server: \
         the service's own time per request, from its Server-Timing header)"
    );
    if !s.errors.is_empty() {
        println!("refusals and failures:");
        for ((route, status, code), n) in &s.errors {
            let status = if *status == 0 {
                "no answer".to_string()
            } else {
                status.to_string()
            };
            println!("  {:<34} {status:>9} {code:<24} {n}", route.label());
        }
    }
    println!(
        "server errors (5xx): {}; day_full refusals: {}; families abandoned: {}; \
         payments abandoned after a crash: {}; reconnections: {}; paid reservations missing from \
         the cart: {}",
        s.server_errors(),
        s.day_full,
        s.abandoned_families,
        s.abandoned_payments,
        s.transport_retries,
        s.cart_missing
    );
    if let Some(failure) = &s.first_failure {
        println!("first failure that made a family give up: {failure}");
    }
    print_alone(o);
    print_open_loop(o);
    println!();
    let mut lag = o.lag.clone();
    lag.sort_unstable();
    println!(
        "projection lag (confirm answered → visible in reservation_view, {} samples, {} lost): \
         p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lag.len(),
        o.lag_lost,
        ms_of(quantile(&lag, 0.50)),
        ms_of(quantile(&lag, 0.99)),
        ms_of(lag.last().copied().unwrap_or_default())
    );
    println!("the live projectors' batches during the workload (the servers' /metrics):");
    for line in crate::projector_times::lines(&r.projectors.batches) {
        println!("{line}");
    }
    for server in &r.projectors.missed {
        println!("  not scraped: {server}");
    }
    println!(
        "expiry: {} reservations awaiting payment at the deadline; clock +61 min → all expired \
         in {:.1} s ({} ReservationExpired events)",
        r.settle.awaiting_before, r.settle.secs, r.settle.expired_events
    );
    println!(
        "replay: {} events rebuilt into every projection from zero in {:.2} s → {:.0} events/s \
         (then compared with the live rows: {:.2} s); plain sequential read {:.2} s → {:.0} \
         events/s (payloads parsed into JSON values); rebuild at {:.0} % of the read \
         (for information: the same read with payloads left as text {:.2} s)",
        r.replay.events,
        r.replay.rebuild.as_secs_f64(),
        r.replay.rebuild_rate(),
        r.replay.comparison.as_secs_f64(),
        r.replay.sequential_read.as_secs_f64(),
        r.replay.read_rate(),
        100.0 * r.replay.rebuild_rate() / r.replay.read_rate().max(1e-9),
        r.replay.text_read.as_secs_f64()
    );
    println!(
        "replay, each projection's busy time (fed the batches, with the writes of those that write each batch / writing what it held, checkpoints, commits): {}",
        r.replay
            .work
            .iter()
            .map(|w| format!(
                "{} {:.2} / {:.2} s",
                w.projection,
                w.feeding.as_secs_f64(),
                w.writing.as_secs_f64()
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mib = |values: &[u64]| {
        values
            .iter()
            .map(|k| format!("{:.1} MiB", *k as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "server peak resident memory (VmHWM): {} during the workload; {} at start, {} after the \
         logins (argon2: 19 MiB per login in flight, one per core)",
        mib(&r.peak_rss_kib),
        mib(&r.start_rss_kib),
        mib(&r.login_peak_rss_kib)
    );
    let commands_per_s = s.commands_ok as f64 / wall;
    match r.ceiling {
        Some(c) => {
            println!(
                "pgbench ceiling (read one aggregate's events + append one event, one transaction, \
                 {} clients, {} s, {} aggregates): {:.0} TPS{}",
                c.clients,
                c.seconds,
                c.aggregates,
                c.tps,
                c.latency_ms
                    .map(|l| format!(", latency average {l:.2} ms"))
                    .unwrap_or_default()
            );
            if let Some(failed) = &c.failed {
                println!("pgbench FAILED: {failed}");
            }
        }
        None => println!("pgbench ceiling: skipped (--no-pgbench)"),
    }
    println!();
    println!("invariants:");
    let mut passed = true;
    let mut all_checks: Vec<(&str, bool, String)> = r
        .checks
        .iter()
        .map(|c| (c.name.as_str(), c.passed, c.detail.clone()))
        .collect();
    all_checks.push((
        "a rebuild from zero gives identical projections",
        r.replay.differing.is_empty(),
        if r.replay.differing.is_empty() {
            "every projection table identical to the live one, row by row".to_string()
        } else {
            r.replay.differing.join("; ")
        },
    ));
    if r.args.crash_drill || r.args.servers > 1 {
        // A drill's point is that nothing breaks: a 5xx is a failure there too.
        all_checks.push((
            "no 5xx answer",
            s.server_errors() + o.alone.server_errors() == 0,
            format!(
                "{} server errors",
                s.server_errors() + o.alone.server_errors()
            ),
        ));
    }
    for (name, ok, detail) in &all_checks {
        passed &= ok;
        println!("  {} {name}: {detail}", if *ok { "PASS" } else { "FAIL" });
    }
    println!();
    match r.ceiling.filter(|c| c.tps > 0.0) {
        Some(c) => println!("ratio: {:.2}", commands_per_s / c.tps),
        None => println!("ratio: n/a"),
    }
    passed
}
