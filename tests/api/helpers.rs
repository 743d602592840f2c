//! `spawn_app`: a real server on port 0, over a fresh database of the run's one throwaway
//! PostgreSQL cluster (or of the server named by `CANTINE_TEST_DATABASE_URL`).

use std::sync::{Arc, Mutex, OnceLock};

use cantine::app::accounts::credentials::hash_password;
use cantine::app::mail::SentMail;
use cantine::app::{self, Cantine, SecuritySettings};
use cantine::config::Settings;
use cantine::db;
use cantine::db::embedded::{EmbeddedPostgres, StartOptions};
use cantine::domain::account::Role;
use cantine::startup::Application;
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::sync::OnceCell;
use uuid::Uuid;

pub const PAYMENT_SECRET: &str = "test-payment-secret";
const TEMPLATE: &str = "cantine_template";

static CLUSTER: OnceLock<EmbeddedPostgres> = OnceLock::new();
static TEMPLATE_READY: OnceCell<()> = OnceCell::const_new();

/// A connection URL to the server's maintenance database.
fn admin_url() -> String {
    if let Ok(url) = std::env::var("CANTINE_TEST_DATABASE_URL") {
        return url;
    }
    CLUSTER
        .get_or_init(|| {
            remove_clusters_of_finished_runs();
            let dir = std::env::temp_dir().join(format!("cantine-test-{}", std::process::id()));
            EmbeddedPostgres::start(
                &dir,
                StartOptions {
                    fast_unsafe: true,
                    max_connections: Some(400),
                    ..StartOptions::default()
                },
            )
            .expect("start the test PostgreSQL cluster")
        })
        .url("postgres")
}

/// Each run leaves its cluster's folder behind (the cluster is held in a static, never
/// dropped; it stops with the process). The next run clears those of runs that have ended.
fn remove_clusters_of_finished_runs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .strip_prefix("cantine-test-")
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The same server's URL with another database name (query string kept).
fn url_for(database: &str) -> String {
    let admin = admin_url();
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base.to_string(), format!("?{query}")),
        None => (admin.clone(), String::new()),
    };
    let server = base
        .rsplit_once('/')
        .map(|(server, _)| server)
        .unwrap_or(&base);
    format!("{server}/{database}{query}")
}

async fn admin_connection() -> sqlx::PgConnection {
    let options: PgConnectOptions = admin_url().parse().expect("admin url");
    options.connect().await.expect("connect to the test server")
}

async fn ensure_template() {
    TEMPLATE_READY
        .get_or_init(|| async {
            let mut conn = admin_connection().await;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {TEMPLATE}"))
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE {TEMPLATE}"))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
            let pool = db::connect(&url_for(TEMPLATE), 1)
                .await
                .expect("template pool");
            db::migrate(&pool).await.expect("migrate the template");
            pool.close().await;
        })
        .await;
}

/// A new database with every migration applied.
pub async fn fresh_database() -> String {
    ensure_template().await;
    database_from(TEMPLATE).await
}

/// A new database with nothing in it, not even the migrations: for a dump to be restored.
pub async fn empty_database() -> String {
    database_from("template0").await
}

/// A new database of the run's server, a copy of `template`.
async fn database_from(template: &str) -> String {
    let name = format!("test_{}", Uuid::new_v4().simple());
    let mut conn = admin_connection().await;
    sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .execute(&mut conn)
        .await
        .expect("create the test database");
    conn.close().await.unwrap();
    url_for(&name)
}

/// 11 January 2017, 14:38 in Paris: the first guide's moment.
pub fn guide_now() -> DateTime<Utc> {
    "2017-01-11T13:38:00Z".parse().unwrap()
}

pub struct TestApp {
    pub address: String,
    pub pool: PgPool,
    pub state: Cantine,
    pub database_url: String,
    client: reqwest::Client,
    background: app::Background,
    /// The e-mails the service sent.
    pub mail: Arc<Mutex<Vec<SentMail>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.background.shutdown();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_at(guide_now()).await
}

pub async fn spawn_app_at(now: DateTime<Utc>) -> TestApp {
    spawn_app_on(fresh_database().await, now).await
}

/// Another server process on an existing database (a restart, or a second server).
pub async fn spawn_app_on(url: String, now: DateTime<Utc>) -> TestApp {
    spawn_app_from(test_settings(url, Some(now))).await
}

/// A server on the wall clock, as without `CANTINE_CLOCK`.
pub async fn spawn_app_on_wall_clock(url: String) -> TestApp {
    spawn_app_from(test_settings(url, None)).await
}

/// A server with these edge settings (CORS, proxy, HSTS), at the guide's moment.
pub async fn spawn_app_with(security: SecuritySettings) -> TestApp {
    let mut settings = test_settings(fresh_database().await, Some(guide_now()));
    settings.cors_origins = security.cors_origins;
    settings.trust_forwarded_for = security.trust_forwarded_for;
    if security.hsts {
        // HSTS follows from an https public URL, as in production, where the payment
        // simulator is refused: a provider's page stands in.
        settings.public_url = Some("https://cantine.test".into());
        settings.payment_page_url = Some("https://paiement.example/".into());
    }
    spawn_app_from(settings).await
}

/// A service whose payment provider hosts its own page at `payment_page_url`.
pub async fn spawn_app_with_payment_page(payment_page_url: &str) -> TestApp {
    let mut settings = test_settings(fresh_database().await, Some(guide_now()));
    settings.payment_page_url = Some(payment_page_url.to_string());
    spawn_app_from(settings).await
}

/// The service's settings in a test: this database, this clock (`None`: the wall clock), any
/// free port, the test payment key, no demo data, e-mails kept in memory, a small pool.
pub fn test_settings(url: String, now: Option<DateTime<Utc>>) -> Settings {
    let mut settings = Settings::defaults();
    settings.database_url = Some(url);
    settings.listen = "127.0.0.1:0".parse().unwrap();
    settings.clock = now;
    settings.payment_secret = Some(PAYMENT_SECRET.into());
    settings.demo = false;
    settings.pool_size = 10;
    settings.capture_mail = Some(Arc::new(Mutex::new(Vec::new())));
    settings
}

/// Starts the service as `cantine serve` does (`Application::build`), serving in the
/// background until the test ends; dropping the `TestApp` stops its background tasks.
pub async fn spawn_app_from(settings: Settings) -> TestApp {
    // `TEST_LOG=1 cargo test …` shows the service's logs; quiet otherwise.
    if std::env::var_os("TEST_LOG").is_some() {
        cantine::telemetry::init(cantine::telemetry::LogFormat::Human);
    }
    let database_url = settings.database_url.clone().expect("a test database");
    let mail = settings.capture_mail.clone().unwrap_or_default();
    let application = Application::build(settings).await.expect("build the app");
    let address = format!("http://{}", application.address());
    let state = application.state().clone();
    let background = application.background().clone();
    tokio::spawn(async move {
        application
            .run_until_stopped(std::future::pending())
            .await
            .unwrap();
    });
    TestApp {
        address,
        pool: state.pool.clone(),
        state,
        database_url,
        client: reqwest::Client::new(),
        background,
        mail,
    }
}

/// An install serving a town on each of `hosts` (made as `cantine town add` makes them, each
/// with its administrator `admin` / `admin-password`), one service for all, at the guide's
/// moment: one `TestApp` per town, whose requests name the town's host and whose pool is the
/// town's own.
pub async fn spawn_towns(hosts: &[&str]) -> Vec<TestApp> {
    let database_url = fresh_database().await;
    let pool = db::connect(&database_url, 2).await.unwrap();
    for host in hosts {
        cantine::app::towns::add(
            &pool,
            &cantine::app::towns::NewTown {
                host: host.to_string(),
                // `a.localhost` is "Commune de a", `portail.localhost/x` "Commune de x".
                name: format!(
                    "Commune de {}",
                    match host.split_once('/') {
                        Some((_, prefix)) => prefix,
                        None => host.split('.').next().unwrap(),
                    }
                ),
                address: "1 place de la Mairie".into(),
                admin_login: "admin".into(),
                admin_password: "admin-password".into(),
            },
        )
        .await
        .expect("add a town");
    }
    pool.close().await;
    serve_towns(database_url).await
}

/// The platform operator's token of the installs `spawn_towns` starts.
pub const PLATFORM_TOKEN: &str = "platform-operator-token";

/// Starts the service on a database whose towns are made: one `TestApp` per town.
pub async fn serve_towns(database_url: String) -> Vec<TestApp> {
    let mut settings = test_settings(database_url.clone(), Some(guide_now()));
    settings.platform_token = Some(PLATFORM_TOKEN.into());
    let mail = settings.capture_mail.clone().unwrap_or_default();
    let application = Application::build(settings).await.expect("build the app");
    let address = application.address();
    let sites = application.sites().to_vec();
    tokio::spawn(async move {
        application
            .run_until_stopped(std::future::pending())
            .await
            .unwrap();
    });
    sites
        .into_iter()
        .map(|site| {
            let town = site.host.clone().expect("a town's host");
            // A town under a path prefix (`portail.localhost/x`) is reached on its host's
            // `/x`: every path the tests append goes under it.
            let (host, prefix) = match town.split_once('/') {
                Some((host, prefix)) => (host.to_string(), format!("/{prefix}")),
                None => (town.clone(), String::new()),
            };
            TestApp {
                address: format!("http://{host}:{}{prefix}", address.port()),
                pool: site.state.pool.clone(),
                state: site.state,
                database_url: database_url.clone(),
                client: reqwest::Client::builder()
                    .resolve(&host, address)
                    .build()
                    .unwrap(),
                background: site.background,
                mail: mail.clone(),
            }
        })
        .collect()
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Reply {
    /// Asserts a problem+json refusal with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{}",
            self.body
        );
        assert_eq!(self.body["code"], code, "{}", self.body);
        assert_eq!(self.body["status"], status);
    }

    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        &self.body
    }
}

impl TestApp {
    /// The port the app listens on, from its address (`http://host:port`, or
    /// `http://host:port/prefix` for a town under a path prefix).
    pub fn port(&self) -> u16 {
        let authority = self.address.split('/').nth(2).expect("an http address");
        let port = authority.rsplit(':').next().expect("a port in the address");
        port.parse().expect("a numeric port")
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.address, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        Self::reply(response).await
    }

    pub async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            content_type,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::PUT, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    pub async fn post_empty(&self, path: &str, token: &str) -> Reply {
        self.request(Method::POST, path, Some(token), None).await
    }

    /// A text download (CSV exports), asserting 200.
    pub async fn get_text(&self, path: &str, token: &str) -> String {
        self.download(path, token, "*/*").await
    }

    /// The CSV spelling of a route that also answers JSON.
    pub async fn get_csv(&self, path: &str, token: &str) -> String {
        self.download(path, token, "text/csv").await
    }

    async fn download(&self, path: &str, token: &str, accept: &str) -> String {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv"),
            "{path}"
        );
        response.text().await.unwrap()
    }

    pub async fn raw(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn login(&self, login: &str, password: &str) -> Reply {
        self.request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"login": login, "password": password})),
        )
        .await
    }

    pub async fn token(&self, login: &str, password: &str) -> String {
        let reply = self.login(login, password).await;
        reply.assert_status(200)["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// A staff user created as `cantine staff add` does, logged in.
    pub async fn staff_token(&self, role: Role) -> String {
        let login = format!("{}-{}", role.as_str(), Uuid::new_v4().simple());
        let password = "staff-password";
        db::accounts::insert_user(
            &self.pool,
            &login,
            Some(&hash_password(password).unwrap()),
            role,
            None,
        )
        .await
        .unwrap();
        self.token(&login, password).await
    }

    pub async fn event_count(&self) -> i64 {
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        n
    }

    /// Stops the service's own runs of its jobs (expiry, schedules, credit-note sweep,
    /// reconciliation); the projectors go on. For a test that runs a job itself and asserts
    /// what it found left to do, which the service's run must not have done first.
    pub fn stop_jobs(&self) {
        self.background.stop_jobs();
    }

    /// Stops every background task, the projectors included: the read models fall behind.
    pub fn stop_background(&self) {
        self.background.shutdown();
    }

    /// Stops the background tasks as a stopping service does: each projector once its batch
    /// has committed, so that no transaction of theirs is left open.
    pub async fn stop_background_cleanly(&self) {
        self.background.stop().await;
    }

    /// Moves the injected clock forward by some seconds (finer than the admin route).
    pub fn wait_seconds(&self, seconds: i64) {
        self.state
            .adjustable_clock
            .as_ref()
            .expect("a test clock")
            .advance(chrono::Duration::seconds(seconds));
    }

    /// Stops the clock: from now on only `wait_seconds` and the admin route move it.
    pub fn pause_clock(&self) {
        self.state
            .adjustable_clock
            .as_ref()
            .expect("a test clock")
            .pause();
    }

    /// The e-mails sent to this address so far.
    pub fn mail_to(&self, to: &str) -> Vec<SentMail> {
        self.mail
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.to == to)
            .cloned()
            .collect()
    }

    /// Waits for the `n`th e-mail to this address (sent in the background) and answers the
    /// token of its password link.
    pub async fn password_link_token(&self, to: &str, n: usize) -> String {
        // Only the password e-mails: the same address also gets the notifications.
        let links = || {
            self.mail_to(to)
                .into_iter()
                .filter(|m| m.subject == cantine::app::mail::PASSWORD_SUBJECT)
                .collect::<Vec<_>>()
        };
        eventually("the password e-mail", || async { links().len() >= n }).await;
        let mail = links()[n - 1].clone();
        let start = mail.body.find("jeton=").expect("a link with its token") + "jeton=".len();
        mail.body[start..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect()
    }

    /// Moves the clock (admin route) and lets the expiry task run.
    pub async fn advance_clock(&self, admin: &str, minutes: i64) {
        self.post(
            "/api/v1/admin/clock",
            admin,
            json!({"advance_minutes": minutes}),
        )
        .await
        .assert_status(200);
    }
}

/// The first guide's canteen: Le Repausset, 2016-2017, prepaid with a one-hour hold.
pub struct Canteen {
    pub admin: String,
    pub restaurant_id: String,
    pub period_id: String,
}

pub fn repausset_period(restaurant_id: &str) -> Value {
    json!({
        "restaurant_id": restaurant_id,
        "activity": "CANTINE SCOLAIRE",
        "label": "Restauration Le Repausset 2016-2017",
        "service": {"label": "REPAS", "start": "12:00", "end": "13:00"},
        "from": "2016-09-01", "to": "2017-07-07",
        "opening_days": ["mon", "tue", "thu", "fri"],
        "closures": [
            {"from": "2016-12-17", "to": "2017-01-02", "label": "Noël"},
            {"from": "2017-02-18", "to": "2017-03-05", "label": "Hiver"}
        ],
        "booking_cutoff": {"kind": "weekday_of_previous_week", "weekday": "tue", "time": "09:30"},
        "payment": {"mode": "prepaid", "hold_minutes": 60},
        "unit_price": "4.15",
        "capacity": 120
    })
}

/// The second guide's canteen (Carcassonne): billed later, 4.97 € a meal, "DÉJEUNER (11:45 –
/// 13:30)" on Mondays, Tuesdays, Thursdays and Fridays of 2024-2025, closed for the Ascension
/// bridge (29-30 May 2025), cut-off two days before at 10:00.
pub async fn setup_jean_jaures(app: &TestApp) -> Canteen {
    setup_canteen(app, "Restaurant scolaire Jean Jaurès", 150, |restaurant_id| {
        json!({
            "restaurant_id": restaurant_id,
            "activity": "RESTAURATION SCOLAIRE",
            "label": "Inscription cantine 2024-2025",
            "service": {"label": "DÉJEUNER", "start": "11:45", "end": "13:30"},
            "from": "2024-09-02", "to": "2025-07-04",
            "opening_days": ["mon", "tue", "thu", "fri"],
            "closures": [{"from": "2025-05-29", "to": "2025-05-30", "label": "Pont de l'Ascension"}],
            "booking_cutoff": {"kind": "days_before", "days": 2, "time": "10:00"},
            "payment": {"mode": "postpaid"},
            "unit_price": "4.97"
        })
    })
    .await
}

pub async fn setup_repausset(app: &TestApp) -> Canteen {
    setup_canteen(
        app,
        "Restaurant Scolaire Le Repausset",
        120,
        repausset_period,
    )
    .await
}

/// A new admin, a restaurant and its period (the body made from the restaurant's id).
async fn setup_canteen(
    app: &TestApp,
    name: &str,
    capacity: i32,
    period: impl FnOnce(&str) -> Value,
) -> Canteen {
    let admin = app.staff_token(Role::Admin).await;
    let restaurant_id = app
        .post(
            "/api/v1/admin/restaurants",
            &admin,
            json!({"name": name, "capacity": capacity}),
        )
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let period_id = app
        .post("/api/v1/admin/periods", &admin, period(&restaurant_id))
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    Canteen {
        admin,
        restaurant_id,
        period_id,
    }
}

pub struct Family {
    pub id: String,
    pub token: String,
    pub child_id: String,
}

/// A family with one child, logged in.
pub async fn family_with_child(app: &TestApp, admin: &str, name: &str, child: &str) -> Family {
    let login = format!(
        "{}-{}@example.fr",
        name.to_lowercase(),
        Uuid::new_v4().simple()
    );
    let family = app
        .post(
            "/api/v1/admin/families",
            admin,
            json!({"name": name, "login": login, "password": "mot-de-passe"}),
        )
        .await;
    let id = family.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let child = app
        .post(
            &format!("/api/v1/admin/families/{id}/children"),
            admin,
            json!({"first_name": child, "last_name": name, "meal_option": "standard"}),
        )
        .await;
    let child_id = child.assert_status(201)["id"].as_str().unwrap().to_string();
    let token = app.token(&login, "mot-de-passe").await;
    Family {
        id,
        token,
        child_id,
    }
}

/// Books `days` for the family's child and confirms; answers the reservation id.
pub async fn book_and_confirm(
    app: &TestApp,
    canteen: &Canteen,
    family: &Family,
    days: &[&str],
) -> String {
    let reply = app
        .post(
            "/api/v1/reservations",
            &family.token,
            json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": days}),
        )
        .await;
    let id = reply.assert_status(201)["id"].as_str().unwrap().to_string();
    app.post_empty(&format!("/api/v1/reservations/{id}/confirm"), &family.token)
        .await
        .assert_status(200);
    id
}

/// Pays reservations through the payment route and a signed provider notification.
pub async fn pay(app: &TestApp, family: &Family, reservation_ids: &[&str]) -> Value {
    let payment = app
        .post(
            "/api/v1/payments",
            &family.token,
            json!({"reservation_ids": reservation_ids}),
        )
        .await;
    let payment = payment.assert_status(201).clone();
    // A provider's reference names one payment.
    let provider_ref = format!("PSP-{}", payment["id"].as_str().unwrap());
    let body =
        json!({"status": "succeeded", "amount": payment["amount"], "provider_ref": provider_ref});
    crate::first_guide::notify(app, payment["id"].as_str().unwrap(), body, PAYMENT_SECRET)
        .await
        .assert_status(200)
        .clone()
}

/// Waits until every projection shows every committed event.
pub async fn all_fresh(app: &TestApp) {
    for projection in cantine::projections::all() {
        app.state.fresh(projection.name()).await;
    }
}

/// Logs in again as the only family of a test database (created by `family_with_child`).
pub async fn family_token_of(app: &TestApp) -> String {
    let (login,): (String,) =
        sqlx::query_as("SELECT login FROM users WHERE role = 'family' LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    app.token(&login, "mot-de-passe").await
}

/// Polls until `check` holds (background tasks run on their own), failing after 10 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// A client that answers redirects instead of following them, as the page tests need to see
/// where a form sends the browser.
pub fn no_redirect_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A request as the browser sends it from a portal or back-office page: the session as its
/// cookie, redirects not followed (the tests read them).
pub fn browser_request(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    no_redirect_client()
        .request(method, format!("{}{path}", app.address))
        .header("cookie", format!("cantine_session={token}"))
}

/// A portal or back-office page, with the session as the browser's cookie.
pub async fn cookie_page(app: &TestApp, path: &str, token: &str) -> (StatusCode, String) {
    let response = browser_request(app, reqwest::Method::GET, path, token)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A form posted from a page: the fields url-encoded (a name may come more than once).
pub async fn cookie_form(
    app: &TestApp,
    path: &str,
    token: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    browser_request(app, reqwest::Method::POST, path, token)
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// Where a redirect points, if it is one.
pub fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
}

/// The CSRF token of a family's session, as its portal pages carry it.
pub fn portal_csrf(app: &TestApp, family: &Family) -> String {
    cantine::web::pages::session::csrf_token_for_session(&app.state, &family.token)
}

/// A portal page as the family's browser opens it.
pub async fn portal_page(app: &TestApp, family: &Family, path: &str) -> (StatusCode, String) {
    cookie_page(app, path, &family.token).await
}

/// Posts a portal form (already url-encoded); answers the status, the `Location` and the body.
pub async fn post_portal_form(
    app: &TestApp,
    family: &Family,
    path: &str,
    body: String,
) -> (StatusCode, String, String) {
    let response = browser_request(app, reqwest::Method::POST, path, &family.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let location = location(&response).unwrap_or_default();
    (response.status(), location, response.text().await.unwrap())
}

/// Posts a portal form that must redirect to a page under `to`, and opens that page: answers
/// its address and its HTML.
pub async fn post_portal_and_follow(
    app: &TestApp,
    family: &Family,
    path: &str,
    body: String,
    to: &str,
) -> (String, String) {
    let (status, location, body) = post_portal_form(app, family, path, body).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(location.starts_with(to), "{location}");
    let (status, html) = portal_page(app, family, &location).await;
    assert_eq!(status, 200, "{html}");
    (location, html)
}

/// Fails with the page unless it shows every one of `needles`.
pub fn assert_shows<S: AsRef<str>>(html: &str, needles: &[S]) {
    for needle in needles {
        let needle = needle.as_ref();
        assert!(html.contains(needle), "missing «{needle}»: {html}");
    }
}
