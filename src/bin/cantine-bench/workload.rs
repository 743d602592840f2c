//! The opening-day workload through the HTTP API: C clients, each taking the next family and
//! running its flow (request and confirm per child, cart, payment and its signed notification,
//! a few cancellations), with every response timed per route and every success the client saw
//! written down, so that the drills can check it is in the log.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::server::{wait_healthy, Servers};
use crate::setup::{
    self, town_url, Environment, FamilyPlan, Pattern, PeriodInfo, Reference, ADMIN_LOGIN,
    ADMIN_PASSWORD, FAMILY_PASSWORD, PAYMENT_SECRET,
};
use crate::Args;
use crate::{cpu, open_loop};

/// The whole measured phase may not take longer than this.
const WORKLOAD_LIMIT: Duration = Duration::from_secs(45 * 60);
/// A client that lost its server (crash drill) waits this long for it to come back.
const RECONNECT_LIMIT: Duration = Duration::from_secs(90);
const ATTEMPTS: usize = 5;
/// Every how many confirmations one is sampled for projection lag.
const LAG_SAMPLE_EVERY: u64 = 4;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash)]
pub enum Route {
    CreateWholeYear,
    CreateMondaysThursdays,
    Confirm,
    Cart,
    Pay,
    Notify,
    Cancel,
}

impl Route {
    pub fn label(self) -> &'static str {
        match self {
            Route::CreateWholeYear => "POST /reservations (whole year)",
            Route::CreateMondaysThursdays => "POST /reservations (Mon+Thu)",
            Route::Confirm => "POST /reservations/{id}/confirm",
            Route::Cart => "GET  /cart",
            Route::Pay => "POST /payments",
            Route::Notify => "POST /payments/{id}/notify",
            Route::Cancel => "POST /reservations/{id}/cancel",
        }
    }

    pub fn is_command(self) -> bool {
        self != Route::Cart
    }
}

#[derive(Default)]
pub struct Stats {
    /// Latency of every answered request, in microseconds.
    pub latencies: BTreeMap<Route, Vec<u32>>,
    /// The server's own time for the same requests (its `Server-Timing` header), in
    /// microseconds.
    pub server_times: BTreeMap<Route, Vec<u32>>,
    /// Refusals and failures: (route, HTTP status or 0 for a transport error, code) → count.
    pub errors: BTreeMap<(Route, u16, String), u64>,
    pub commands_ok: u64,
    pub meals_booked: u64,
    pub reservations: u64,
    pub day_full: u64,
    pub transport_retries: u64,
    pub abandoned_families: u64,
    pub abandoned_payments: u64,
    pub cart_missing: u64,
    /// Notifications answered 200 whose reservations the log did not all mark paid are
    /// found by the invariants; this counts those answered without an invoice number.
    pub notify_without_invoice: u64,
    /// Why the first abandoned family was abandoned.
    pub first_failure: Option<String>,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        for (route, mut values) in other.latencies {
            self.latencies.entry(route).or_default().append(&mut values);
        }
        for (route, mut values) in other.server_times {
            self.server_times
                .entry(route)
                .or_default()
                .append(&mut values);
        }
        for (key, n) in other.errors {
            *self.errors.entry(key).or_default() += n;
        }
        self.commands_ok += other.commands_ok;
        self.meals_booked += other.meals_booked;
        self.reservations += other.reservations;
        self.day_full += other.day_full;
        self.transport_retries += other.transport_retries;
        self.abandoned_families += other.abandoned_families;
        self.abandoned_payments += other.abandoned_payments;
        self.cart_missing += other.cart_missing;
        self.notify_without_invoice += other.notify_without_invoice;
        if self.first_failure.is_none() {
            self.first_failure = other.first_failure;
        }
    }

    pub fn server_errors(&self) -> u64 {
        self.errors
            .iter()
            .filter(|((_, status, _), _)| *status >= 500)
            .map(|(_, n)| n)
            .sum()
    }
}

/// A success a client saw: this event must be in the log for this reservation.
#[derive(Clone, Debug)]
pub struct Expectation {
    /// The town whose log must hold it.
    pub town: usize,
    pub reservation_id: Uuid,
    pub event_type: &'static str,
}

pub struct Outcome {
    pub wall: Duration,
    pub stats: Stats,
    pub expected: Vec<Expectation>,
    /// Invoice numbers the clients were given, with their town (numbers are per town).
    pub invoices_seen: Vec<(usize, String)>,
    pub lag: Vec<Duration>,
    pub lag_lost: u64,
    /// The CPU the rush cost, until the projections caught up (`None`: not measured).
    pub cpu: Option<cpu::Used>,
    pub kills: usize,
    pub events_before: i64,
    pub events_after: i64,
    /// The families set aside, run one at a time once the rush is over: what a request costs
    /// the server without a queue in front of it.
    pub alone: Stats,
    pub alone_families: usize,
    /// With `--rate`: the open-loop phase, on the second half of the families.
    pub open: Option<OpenLoopOutcome>,
}

/// The open-loop phase (`--rate`; see `open_loop.rs` for the schedule and the accounting).
pub struct OpenLoopOutcome {
    /// What was asked for.
    pub rate: open_loop::Rate,
    /// The families per second scheduled.
    pub scheduled_rate: f64,
    /// The closed loop's families per second in the same run (what `80%` is a share of).
    pub closed_loop_rate: f64,
    /// The closed loop's answered requests per second.
    pub closed_loop_requests_rate: f64,
    pub families: usize,
    pub achieved_start_rate: f64,
    /// The latest any family's first request was sent behind its schedule.
    pub start_lateness: Duration,
    /// From the first scheduled start to the last answer.
    pub wall: Duration,
    /// Latencies from the scheduled times.
    pub stats: Stats,
}

/// How many families book one at a time after the rush (the last ones with a whole-year
/// child; at most a tenth of them).
const ALONE_FAMILIES: usize = 20;

/// Takes from `families` those that will book one at a time after the rush.
fn set_aside(families: &mut Vec<LoggedIn>) -> Vec<LoggedIn> {
    let wanted = ALONE_FAMILIES.min(families.len() / 10);
    let mut alone = Vec::with_capacity(wanted);
    let mut i = families.len();
    while i > 0 && alone.len() < wanted {
        i -= 1;
        let whole_year = families[i]
            .plan
            .children
            .iter()
            .any(|c| c.pattern == Pattern::WholeYear);
        if whole_year {
            alone.push(families.remove(i));
        }
    }
    alone.reverse();
    alone
}

pub struct LoggedIn {
    pub plan: FamilyPlan,
    pub token: String,
}

/// Every family logs in (argon2 is slow by design: before the measured phase), on its town's
/// host, and each town's administrator. Answers the families and the administrators' tokens,
/// in the order of `reference.towns`.
pub async fn log_in(
    servers: &Servers,
    reference: &Reference,
    clients: usize,
) -> anyhow::Result<(Vec<LoggedIn>, Vec<String>)> {
    let base = servers.base_urls()[0].clone();
    let http = servers.http.clone();
    let mut admins = Vec::with_capacity(reference.towns.len());
    for town in &reference.towns {
        let url = town_url(&base, town.host.as_deref());
        admins.push(login(&http, &url, ADMIN_LOGIN, ADMIN_PASSWORD).await?);
    }
    let hosts: Arc<Vec<Option<String>>> =
        Arc::new(reference.towns.iter().map(|t| t.host.clone()).collect());
    let families = Arc::new(reference.families.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients.clamp(1, 32) {
        let (families, next, http, base, hosts) = (
            families.clone(),
            next.clone(),
            http.clone(),
            base.clone(),
            hosts.clone(),
        );
        tasks.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(plan) = families.get(i) else { break };
                let url = town_url(&base, hosts[plan.town].as_deref());
                let token = login(&http, &url, &plan.login, FAMILY_PASSWORD).await?;
                done.push(LoggedIn {
                    plan: plan.clone(),
                    token,
                });
            }
            anyhow::Ok(done)
        });
    }
    let mut all = Vec::new();
    while let Some(done) = tasks.join_next().await {
        all.extend(done??);
    }
    // Keep the plan's order: the workload's order does not depend on login timing.
    all.sort_by_key(|l| {
        reference
            .families
            .iter()
            .position(|f| f.id == l.plan.id)
            .unwrap_or(usize::MAX)
    });
    Ok((all, admins))
}

async fn login(
    http: &reqwest::Client,
    base: &str,
    login: &str,
    password: &str,
) -> anyhow::Result<String> {
    let response = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    anyhow::ensure!(status.is_success(), "login {login}: {status} {body}");
    body["token"]
        .as_str()
        .map(str::to_string)
        .context("login answer without a token")
}

enum Failure {
    /// No answer (connection refused or cut): the outcome is unknown.
    Transport(String),
    Status {
        status: u16,
        code: String,
        body: Value,
    },
}

impl Failure {
    fn describe(&self) -> String {
        match self {
            Failure::Transport(e) => format!("no answer: {e}"),
            Failure::Status { status, code, body } => format!("{status} {code}: {body}"),
        }
    }

    fn is(&self, code: &str) -> bool {
        matches!(self, Failure::Status { code: c, .. } if c == code)
    }
}

struct Answer {
    body: Value,
    /// An earlier attempt got no answer: it may have taken effect.
    uncertain: bool,
}

struct Client {
    http: reqwest::Client,
    base: String,
    crash_tolerant: bool,
}

impl Client {
    /// Sends the request built by `make`; on a lost connection (crash drill only) waits for the
    /// server to come back and sends it again.
    ///
    /// `schedule` is `None` in the closed loop: latency runs from the send. In the open loop it
    /// is the request's scheduled time, which latency runs from; on an answer it becomes the
    /// answer's instant, the scheduled time of the family's next request.
    async fn exec(
        &self,
        stats: &mut Stats,
        schedule: &mut Option<Instant>,
        route: Route,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> (Result<Answer, Failure>, bool) {
        let mut uncertain = false;
        for attempt in 1..=ATTEMPTS {
            let started = open_loop::origin(*schedule, Instant::now());
            let response = match make().send().await {
                Ok(r) => r,
                Err(e) => {
                    *stats
                        .errors
                        .entry((route, 0, "transport".into()))
                        .or_default() += 1;
                    if !self.crash_tolerant || attempt == ATTEMPTS {
                        return (Err(Failure::Transport(e.to_string())), uncertain);
                    }
                    stats.transport_retries += 1;
                    uncertain = true;
                    let _ = wait_healthy(&self.http, &self.base, RECONNECT_LIMIT).await;
                    continue;
                }
            };
            let status = response.status().as_u16();
            let server_ms = response
                .headers()
                .get(cantine::web::server_timing::HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(cantine::web::server_timing::parse);
            let text = match response.text().await {
                Ok(t) => t,
                Err(e) => {
                    *stats
                        .errors
                        .entry((route, 0, "transport".into()))
                        .or_default() += 1;
                    if !self.crash_tolerant || attempt == ATTEMPTS {
                        return (Err(Failure::Transport(e.to_string())), uncertain);
                    }
                    stats.transport_retries += 1;
                    uncertain = true;
                    let _ = wait_healthy(&self.http, &self.base, RECONNECT_LIMIT).await;
                    continue;
                }
            };
            let answered = Instant::now();
            if schedule.is_some() {
                *schedule = Some(answered);
            }
            let micros = open_loop::latency(started, answered)
                .as_micros()
                .min(u32::MAX as u128) as u32;
            stats.latencies.entry(route).or_default().push(micros);
            if let Some(ms) = server_ms {
                let micros = (ms * 1000.0).clamp(0.0, u32::MAX as f64) as u32;
                stats.server_times.entry(route).or_default().push(micros);
            }
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            if (200..300).contains(&status) {
                if route.is_command() {
                    stats.commands_ok += 1;
                }
                return (Ok(Answer { body, uncertain }), uncertain);
            }
            let code = body["code"].as_str().unwrap_or("-").to_string();
            *stats
                .errors
                .entry((route, status, code.clone()))
                .or_default() += 1;
            return (Err(Failure::Status { status, code, body }), uncertain);
        }
        unreachable!("the last attempt returns")
    }

    fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(token)
            .json(body)
    }
}

/// Confirmations whose commit-to-visible time in the reservations read model is measured by
/// one poller: a sample is visible once `reservation_view` no longer says `requested`.
struct LagSampler {
    /// (town, reservation, confirmation answered at)
    pending: Mutex<Vec<(usize, Uuid, Instant)>>,
    seen: Mutex<Vec<Duration>>,
    lost: AtomicU64,
    counter: AtomicU64,
    stop: AtomicBool,
}

impl LagSampler {
    fn new() -> Arc<Self> {
        Arc::new(LagSampler {
            pending: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
            lost: AtomicU64::new(0),
            counter: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        })
    }

    fn offer(&self, town: usize, id: Uuid, answered: Instant) {
        if self
            .counter
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(LAG_SAMPLE_EVERY)
        {
            self.pending.lock().unwrap().push((town, id, answered));
        }
    }

    /// Polls each town's read model (`pools`, in the order of the towns) for its samples.
    async fn run(self: Arc<Self>, pools: Vec<PgPool>) {
        loop {
            let pending: Vec<(usize, Uuid)> = self
                .pending
                .lock()
                .unwrap()
                .iter()
                .map(|p| (p.0, p.1))
                .collect();
            if pending.is_empty() {
                if self.stop.load(Ordering::Relaxed) {
                    return;
                }
            } else {
                let mut visible = Vec::new();
                for (town, pool) in pools.iter().enumerate() {
                    let ids: Vec<Uuid> = pending
                        .iter()
                        .filter(|p| p.0 == town)
                        .map(|p| p.1)
                        .collect();
                    if !ids.is_empty() {
                        visible.extend(Self::visible(pool, &ids).await);
                    }
                }
                // Planned at each call: a prepared plan is fixed after five calls, when the
                // table is still nearly empty, and its sequential scan then read every (wide)
                // row ~500 times a second, a fifth of the database's time during the workload.
                let now = Instant::now();
                let mut pending = self.pending.lock().unwrap();
                let mut seen = self.seen.lock().unwrap();
                pending.retain(|(_, id, at)| {
                    if visible.contains(id) {
                        seen.push(now.saturating_duration_since(*at));
                        false
                    } else if now.duration_since(*at) > Duration::from_secs(30)
                        || self.stop.load(Ordering::Relaxed)
                    {
                        self.lost.fetch_add(1, Ordering::Relaxed);
                        false
                    } else {
                        true
                    }
                });
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

impl LagSampler {
    /// Which of `ids` the town's read model shows confirmed.
    async fn visible(pool: &PgPool, ids: &[Uuid]) -> Vec<Uuid> {
        // Planned at each call: a prepared plan is fixed after five calls, when the table is
        // still nearly empty, and its sequential scan then read every (wide) row ~500 times a
        // second, a fifth of the database's time during the workload.
        let rows: Vec<(Uuid,)> = sqlx::query_as(
            "SELECT id FROM reservation_view WHERE id = ANY($1) AND status <> 'requested'",
        )
        .persistent(false)
        .bind(ids)
        .fetch_all(pool)
        .await
        .unwrap_or_default();
        rows.into_iter().map(|(id,)| id).collect()
    }
}

struct Worker {
    client: Client,
    /// The server this worker talks to (`http://127.0.0.1:port`); each family on its town's
    /// host name there.
    server_base: String,
    /// The town of the family being served.
    town: usize,
    /// Open loop: the scheduled time of the next request (see `Client::exec`).
    schedule: Option<Instant>,
    stats: Stats,
    expected: Vec<Expectation>,
    invoices_seen: Vec<(usize, String)>,
    sampler: Arc<LagSampler>,
}

fn days_for(period: &PeriodInfo, pattern: Pattern) -> Vec<NaiveDate> {
    period
        .days
        .iter()
        .copied()
        .filter(|d| match pattern {
            Pattern::WholeYear => true,
            Pattern::MondaysThursdays => {
                matches!(d.weekday(), chrono::Weekday::Mon | chrono::Weekday::Thu)
            }
        })
        .collect()
}

impl Worker {
    fn new(servers: &Servers, base: &str, args: &Args, sampler: Arc<LagSampler>) -> Self {
        Worker {
            client: Client {
                http: servers.http.clone(),
                base: base.to_string(),
                crash_tolerant: args.crash_drill,
            },
            server_base: base.to_string(),
            town: 0,
            schedule: None,
            stats: Stats::default(),
            expected: Vec::new(),
            invoices_seen: Vec::new(),
            sampler,
        }
    }

    fn give_up(&mut self, failure: Failure) -> bool {
        if self.stats.first_failure.is_none() {
            self.stats.first_failure = Some(failure.describe());
        }
        false
    }

    fn expect(&mut self, reservation_id: Uuid, event_type: &'static str) {
        self.expected.push(Expectation {
            town: self.town,
            reservation_id,
            event_type,
        });
    }

    /// One family's opening morning. Answers false when it had to give up half-way.
    async fn family(&mut self, family: &LoggedIn, reference: &Reference) -> bool {
        self.town = family.plan.town;
        let town = &reference.towns[self.town];
        self.client.base = town_url(&self.server_base, town.host.as_deref());
        let period = &town.periods[family.plan.restaurant];
        let token = family.token.as_str();
        let mut to_pay = Vec::new();
        let mut to_cancel = Vec::new();
        for child in &family.plan.children {
            let route = match child.pattern {
                Pattern::WholeYear => Route::CreateWholeYear,
                Pattern::MondaysThursdays => Route::CreateMondaysThursdays,
            };
            let mut days = days_for(period, child.pattern);
            let mut created = None;
            for _ in 0..ATTEMPTS {
                if days.is_empty() {
                    break;
                }
                let body = json!({"child_id": child.id, "period_id": period.id, "days": days});
                let (result, _) = self
                    .client
                    .exec(&mut self.stats, &mut self.schedule, route, || {
                        self.client.post("/reservations", token, &body)
                    })
                    .await;
                match result {
                    Ok(answer) => {
                        let Some(id) = answer.body["id"].as_str().and_then(|s| s.parse().ok())
                        else {
                            return false;
                        };
                        created = Some(id);
                        break;
                    }
                    // A parent unticks the full days and books the rest.
                    Err(Failure::Status { code, body, .. }) if code == "day_full" => {
                        self.stats.day_full += 1;
                        let full: Vec<NaiveDate> =
                            serde_json::from_value(body["days"].clone()).unwrap_or_default();
                        if full.is_empty() {
                            break;
                        }
                        days.retain(|d| !full.contains(d));
                    }
                    Err(f) => return self.give_up(f),
                }
            }
            let Some(id) = created else { continue };
            self.expect(id, "ReservationRequested");
            self.stats.reservations += 1;
            self.stats.meals_booked += days.len() as u64;
            let (result, _) = self
                .client
                .exec(&mut self.stats, &mut self.schedule, Route::Confirm, || {
                    self.client
                        .post(&format!("/reservations/{id}/confirm"), token, &json!({}))
                })
                .await;
            match result {
                Ok(answer) if !answer.uncertain => {
                    self.expect(id, "ReservationConfirmed");
                    self.sampler.offer(self.town, id, Instant::now());
                }
                Ok(_) => {}
                Err(f) if f.is("already_confirmed") => {}
                Err(f) => return self.give_up(f),
            }
            if child.pays {
                to_pay.push(id);
                if child.cancels {
                    let last: Vec<NaiveDate> = days.iter().rev().take(3).copied().collect();
                    to_cancel.push((id, last));
                }
            }
        }
        let (cart, _) = self
            .client
            .exec(&mut self.stats, &mut self.schedule, Route::Cart, || {
                self.client
                    .http
                    .get(format!("{}/api/v1/cart", self.client.base))
                    .bearer_auth(token)
            })
            .await;
        match cart {
            Ok(answer) => {
                let listed: Vec<&str> = answer.body["reservations"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|r| r["id"].as_str()).collect())
                    .unwrap_or_default();
                let missing = to_pay
                    .iter()
                    .filter(|id| !listed.contains(&id.to_string().as_str()))
                    .count();
                self.stats.cart_missing += missing as u64;
            }
            Err(f) => return self.give_up(f),
        }
        if !to_pay.is_empty() && !self.pay(token, &to_pay).await {
            return false;
        }
        for (id, days) in to_cancel {
            let body = json!({ "days": days });
            let (result, _) = self
                .client
                .exec(&mut self.stats, &mut self.schedule, Route::Cancel, || {
                    self.client
                        .post(&format!("/reservations/{id}/cancel"), token, &body)
                })
                .await;
            match result {
                Ok(answer) if !answer.uncertain => self.expect(id, "DaysCancelled"),
                Ok(_) => {}
                Err(f) => return self.give_up(f),
            }
        }
        true
    }

    async fn pay(&mut self, token: &str, ids: &[Uuid]) -> bool {
        let body = json!({ "reservation_ids": ids });
        let (result, _) = self
            .client
            .exec(&mut self.stats, &mut self.schedule, Route::Pay, || {
                self.client.post("/payments", token, &body)
            })
            .await;
        let answer = match result {
            Ok(answer) => answer,
            // The first attempt went through before the crash; its id is lost to this client,
            // so these reservations go unpaid and expire (a family would pay again later).
            Err(f) if f.is("payment_pending") => {
                self.stats.abandoned_payments += 1;
                return true;
            }
            Err(f) => return self.give_up(f),
        };
        let (Some(payment_id), Some(amount)) =
            (answer.body["id"].as_str(), answer.body["amount"].as_str())
        else {
            return false;
        };
        let notification = serde_json::to_vec(&json!({
            "payment_id": payment_id,
            "status": "succeeded",
            "amount": amount,
            "provider_ref": format!("bench-{payment_id}"),
        }))
        .expect("json");
        let signature = cantine::web::api::payments::sign(PAYMENT_SECRET.as_bytes(), &notification);
        let url = format!("{}/api/v1/payments/{payment_id}/notify", self.client.base);
        let (result, _) = self
            .client
            .exec(&mut self.stats, &mut self.schedule, Route::Notify, || {
                self.client
                    .http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("Cantine-Signature", &signature)
                    .body(notification.clone())
            })
            .await;
        match result {
            Ok(answer) => {
                for id in ids {
                    self.expect(*id, "ReservationPaid");
                }
                let numbers: Vec<String> = answer.body["invoice_numbers"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|n| n.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                if numbers.is_empty() {
                    self.stats.notify_without_invoice += 1;
                }
                let town = self.town;
                self.invoices_seen
                    .extend(numbers.into_iter().map(|n| (town, n)));
                true
            }
            Err(f) => self.give_up(f),
        }
    }
}

/// Events in every town's log.
async fn count_events(env: &Environment) -> anyhow::Result<i64> {
    count_in_towns(env, "SELECT count(*) FROM events").await
}

/// `sql`'s count summed over the towns.
async fn count_in_towns(env: &Environment, sql: &str) -> anyhow::Result<i64> {
    let mut total = 0;
    for town in &env.towns {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&town.pool).await?;
        total += n;
    }
    Ok(total)
}

/// The measured phase. In the crash drill, the servers are killed (SIGKILL) and restarted
/// `--kills` times, evenly over the run.
pub async fn run(
    args: &Args,
    env: &Environment,
    servers: &mut Servers,
    reference: &Arc<Reference>,
    mut families: Vec<LoggedIn>,
) -> anyhow::Result<Outcome> {
    let alone_families = set_aside(&mut families);
    // With `--rate`, the closed loop takes the first half of the families, the open loop the
    // second half (each family books once).
    let open_families = match args.rate {
        Some(_) => families.split_off(families.len() / 2),
        None => Vec::new(),
    };
    let closed_families = families.len();
    let total = families.len();
    let families = Arc::new(families);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let sampler = LagSampler::new();
    let poller = tokio::spawn(
        sampler
            .clone()
            .run(env.towns.iter().map(|t| t.pool.clone()).collect()),
    );
    let events_before = count_events(env).await?;
    let urls = servers.base_urls();
    let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&env.pool)
        .await?;
    let cpu = cpu::Meter::start(servers.pids(), backend as u32);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..args.clients {
        let mut worker = Worker::new(servers, &urls[n % urls.len()], args, sampler.clone());
        let (families, next, done, reference) = (
            families.clone(),
            next.clone(),
            done.clone(),
            reference.clone(),
        );
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(family) = families.get(i) else { break };
                if !worker.family(family, &reference).await {
                    worker.stats.abandoned_families += 1;
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            worker
        });
    }
    if args.crash_drill {
        for k in 1..=args.kills {
            let at = total * k / (args.kills + 1);
            let deadline = Instant::now() + WORKLOAD_LIMIT;
            while done.load(Ordering::Relaxed) < at && !tasks.is_empty() {
                anyhow::ensure!(Instant::now() < deadline, "the workload stalled");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            eprintln!(
                "crash drill: SIGKILL of the server(s) after {} of {total} families",
                done.load(Ordering::Relaxed)
            );
            servers.kill_all();
            tokio::time::sleep(Duration::from_millis(300)).await;
            servers.restart_all().await?;
            eprintln!("crash drill: server(s) restarted");
        }
    }
    let mut stats = Stats::default();
    let mut expected = Vec::new();
    let mut invoices_seen = Vec::new();
    let joined = tokio::time::timeout(WORKLOAD_LIMIT, async {
        while let Some(worker) = tasks.join_next().await {
            let worker = worker?;
            stats.merge(worker.stats);
            expected.extend(worker.expected);
            invoices_seen.extend(worker.invoices_seen);
        }
        anyhow::Ok(())
    })
    .await;
    let wall = started.elapsed();
    sampler.stop.store(true, Ordering::Relaxed);
    match joined {
        Ok(r) => r?,
        Err(_) => anyhow::bail!("the workload did not finish within {WORKLOAD_LIMIT:?}"),
    }
    // Let the poller see the last samples before it stops.
    let _ = setup::wait_caught_up(env, Duration::from_secs(60)).await;
    let cpu = cpu.and_then(|meter| meter.stop(&servers.pids()));
    let _ = tokio::time::timeout(Duration::from_secs(10), poller).await;
    let lag = std::mem::take(&mut *sampler.seen.lock().unwrap());
    let events_after = count_events(env).await?;

    let open = match args.rate {
        Some(rate) => {
            let closed_loop_rate = open_loop::rate(closed_families as u64, wall);
            let answered: usize = stats.latencies.values().map(Vec::len).sum();
            let closed_loop_requests_rate = open_loop::rate(answered as u64, wall);
            let scheduled_rate = rate.families_per_second(closed_loop_rate);
            anyhow::ensure!(
                scheduled_rate > 0.0,
                "the open loop's rate is zero (the closed loop started no family)"
            );
            eprintln!(
                "closed loop done ({closed_loop_rate:.1} families/s); open loop: {} families at \
                 {scheduled_rate:.2} families/s",
                open_families.len()
            );
            let (outcome, open_expected, open_invoices) =
                run_open_loop(args, servers, reference, open_families, scheduled_rate).await?;
            expected.extend(open_expected);
            invoices_seen.extend(open_invoices);
            Some(OpenLoopOutcome {
                rate,
                closed_loop_rate,
                closed_loop_requests_rate,
                ..outcome
            })
        }
        None => None,
    };

    // Lag samples taken now would flatter the rush's: this sampler is never polled.
    let mut alone = Worker::new(servers, &urls[0], args, LagSampler::new());
    for family in &alone_families {
        if !alone.family(family, reference).await {
            alone.stats.abandoned_families += 1;
        }
    }
    expected.extend(alone.expected);
    invoices_seen.extend(alone.invoices_seen);
    Ok(Outcome {
        wall,
        stats,
        expected,
        invoices_seen,
        lag,
        lag_lost: sampler.lost.load(Ordering::Relaxed),
        kills: servers.kills,
        events_before,
        events_after,
        alone_families: alone_families.len(),
        alone: alone.stats,
        open,
        cpu,
    })
}

/// The open loop: family `i` starts at `t0 + i / rate` whatever the answers (one task each,
/// no limit on how many are in flight), its next requests as soon as it has the answer it
/// needs; every latency from its scheduled time.
async fn run_open_loop(
    args: &Args,
    servers: &Servers,
    reference: &Arc<Reference>,
    families: Vec<LoggedIn>,
    rate: f64,
) -> anyhow::Result<(OpenLoopOutcome, Vec<Expectation>, Vec<(usize, String)>)> {
    let urls = servers.base_urls();
    let families = Arc::new(families);
    let t0 = Instant::now() + Duration::from_millis(20);
    let mut scheduled = Vec::with_capacity(families.len());
    let mut actual = Vec::with_capacity(families.len());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..families.len() {
        let at = open_loop::scheduled_start(t0, i, rate);
        tokio::time::sleep_until(at.into()).await;
        scheduled.push(at);
        actual.push(Instant::now());
        let mut worker = Worker::new(servers, &urls[i % urls.len()], args, LagSampler::new());
        worker.schedule = Some(at);
        let (families, reference) = (families.clone(), reference.clone());
        tasks.spawn(async move {
            if !worker.family(&families[i], &reference).await {
                worker.stats.abandoned_families += 1;
            }
            worker
        });
    }
    let mut stats = Stats::default();
    let mut expected = Vec::new();
    let mut invoices_seen = Vec::new();
    tokio::time::timeout(WORKLOAD_LIMIT, async {
        while let Some(worker) = tasks.join_next().await {
            let worker = worker?;
            stats.merge(worker.stats);
            expected.extend(worker.expected);
            invoices_seen.extend(worker.invoices_seen);
        }
        anyhow::Ok(())
    })
    .await
    .map_err(|_| anyhow::anyhow!("the open loop did not finish within {WORKLOAD_LIMIT:?}"))??;
    let wall = t0.elapsed();
    let outcome = OpenLoopOutcome {
        rate: open_loop::Rate::PerSecond(rate),
        scheduled_rate: rate,
        closed_loop_rate: 0.0,
        closed_loop_requests_rate: 0.0,
        families: families.len(),
        achieved_start_rate: open_loop::achieved_start_rate(&actual),
        start_lateness: open_loop::start_lateness(&scheduled, &actual),
        wall,
        stats,
    };
    Ok((outcome, expected, invoices_seen))
}

pub struct Settle {
    pub awaiting_before: i64,
    pub expired_events: i64,
    pub secs: f64,
}

/// After the rush: the clock moves past every hold (61 minutes) and the expiry task must expire
/// every unpaid reservation (bounded wait).
pub async fn expire_unpaid(
    env: &Environment,
    servers: &mut Servers,
    reference: &Reference,
    admin_tokens: &[String],
) -> anyhow::Result<Settle> {
    const AWAITING: &str =
        "SELECT count(*) FROM reservation_view WHERE status = 'awaiting_payment'";
    setup::wait_caught_up(env, Duration::from_secs(60)).await?;
    let awaiting_before = count_in_towns(env, AWAITING).await?;
    let started = Instant::now();
    servers.advance_clock(reference, admin_tokens, 61).await?;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let left = count_in_towns(env, AWAITING).await?;
        if left == 0 {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{left} reservations still await payment 180 s after their deadline"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        setup::wait_caught_up(env, Duration::from_secs(60)).await?;
    }
    let secs = started.elapsed().as_secs_f64();
    setup::wait_caught_up(env, Duration::from_secs(60)).await?;
    Ok(Settle {
        awaiting_before,
        expired_events: count_in_towns(
            env,
            "SELECT count(*) FROM events WHERE event_type = 'ReservationExpired'",
        )
        .await?,
        secs,
    })
}
