//! Operating it: `/ready`, `/metrics` (token or own listener, never public), JSON log lines,
//! a clean stop on SIGTERM under load, and a backup restored into a fresh cluster.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cantine::db::embedded::{EmbeddedPostgres, StartOptions};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn ready_answers_503_while_a_projection_lags_and_200_once_caught_up() {
    let mut settings = test_settings(fresh_database().await, Some(guide_now()));
    settings.ready_max_lag_ms = 300;
    let app = spawn_app_from(settings).await;
    let admin = app.staff_token(cantine::domain::account::Role::Admin).await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &admin, "Dupont", "Léa").await;
    all_fresh(&app).await;
    let ready = app.get("/ready", "").await;
    assert_eq!(ready.status, 200, "{:?}", ready.body);
    assert_eq!(ready.body["status"], "ready");

    // With its projectors stopped, the service falls behind the log it keeps appending to.
    app.stop_background();
    book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let ready = app.get("/ready", "").await;
    ready.assert_problem(503, "not_ready");
    let detail = ready.body["detail"].as_str().unwrap();
    assert!(detail.contains("reservations"), "{detail}");

    // Another server on the same database, with its projectors running, catches up: ready.
    let other = spawn_app_on(app.database_url.clone(), guide_now()).await;
    eventually("the other server is ready", || async {
        other.get("/ready", "").await.status == 200
    })
    .await;
}

/// A service whose `/metrics` answers to the token `scrape-me`, with the Repausset canteen and
/// one family.
async fn app_with_metrics_token() -> (TestApp, Canteen, Family) {
    let mut settings = test_settings(fresh_database().await, Some(guide_now()));
    settings.metrics_token = Some("scrape-me".into());
    let app = spawn_app_from(settings).await;
    let admin = app.staff_token(cantine::domain::account::Role::Admin).await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &admin, "Dupont", "Léa").await;
    (app, canteen, family)
}

#[tokio::test]
async fn metrics_need_the_token_and_count_routes_commands_and_holds() {
    let (app, canteen, family) = app_with_metrics_token().await;
    book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    // A refusal: a Saturday is not a service day.
    app.post(
        "/api/v1/reservations",
        &family.token,
        json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": ["2017-01-28"]}),
    )
    .await
    .assert_status(422);
    app.get(
        &format!("/api/v1/reservations/{}", uuid::Uuid::new_v4()),
        &family.token,
    )
    .await
    .assert_problem(404, "not_found");
    all_fresh(&app).await;

    let client = app.raw().await;
    let url = format!("{}/metrics", app.address);
    let anonymous = client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let family_token = client
        .get(&url)
        .bearer_auth(&family.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        family_token.status(),
        401,
        "a session token is not the metrics token"
    );
    let scraped = client
        .get(&url)
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = scraped.text().await.unwrap();
    // Requests by route template (never by id), method and status, with their latencies.
    assert!(
        text.contains(
            r#"cantine_http_requests_total{method="POST",route="/api/v1/reservations",status="201"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"cantine_http_requests_total{method="GET",route="/api/v1/reservations/{id}",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"cantine_http_request_duration_seconds_count{method="POST",route="/api/v1/reservations/{id}/confirm"} 1"#), "{text}");
    // Commands by kind and outcome, refusals by code.
    assert!(text.contains(r#"cantine_commands_total{aggregate="Reservation",code="",kind="request",outcome="accepted"} 1"#), "{text}");
    assert!(text.contains(r#"cantine_commands_total{aggregate="Reservation",code="",kind="confirm",outcome="accepted"} 1"#), "{text}");
    assert!(
        text.contains(r#"kind="request",outcome="refused"} 1"#)
            && text.contains(r#"code="closed_day""#),
        "{text}"
    );
    // The Repausset period is prepaid: the confirmed reservation holds its places until paid.
    assert!(text.contains("cantine_holds_awaiting_payment 1"), "{text}");
    assert!(text.contains("cantine_requests_unconfirmed 0"), "{text}");
    for projection in cantine::projections::all() {
        let name = projection.name();
        assert!(
            text.contains(&format!(
                "cantine_projection_lag_seconds{{projection=\"{name}\"}} 0"
            )),
            "{name}: {text}"
        );
        assert!(
            text.contains(&format!(
                "cantine_projection_position{{projection=\"{name}\"}}"
            )),
            "{text}"
        );
    }
    assert!(
        text.contains("cantine_db_pool_max_connections 10"),
        "{text}"
    );
    assert!(
        text.contains(r#"cantine_db_pool_connections{state="in_use"}"#),
        "{text}"
    );
    // The scrape itself is not hidden: the next scrape counts this one.
    let again = scrape(&app).await;
    assert!(
        again.contains(
            r#"cantine_http_requests_total{method="GET",route="/metrics",status="200"} 1"#
        ),
        "{again}"
    );
}

/// `/metrics` as a scraper with the token `scrape-me` reads it.
async fn scrape(app: &TestApp) -> String {
    app.raw()
        .await
        .get(format!("{}/metrics", app.address))
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of the series `series` (name and labels, as written) in a scrape.
fn scraped_value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in {text}"))
        .parse()
        .unwrap()
}

/// Where a live projector's time goes, for the operator and the benchmark: its batches, their
/// events, and each phase's time, as counters that grow from one scrape to the next.
#[tokio::test]
async fn metrics_count_the_projectors_batches_and_their_time_by_phase() {
    let (app, canteen, family) = app_with_metrics_token().await;
    book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    all_fresh(&app).await;
    let first = scrape(&app).await;
    let reservations = |text: &str, series: &str| {
        scraped_value(text, &format!("{series}{{projection=\"reservations\"}}"))
    };
    let phase = |text: &str, phase: &str| {
        scraped_value(
            text,
            &format!(
                "cantine_projection_batch_seconds_total{{phase=\"{phase}\",projection=\"reservations\"}}"
            ),
        )
    };
    let batches = reservations(&first, "cantine_projection_batches_total");
    let events = reservations(&first, "cantine_projection_batch_events_total");
    assert!(batches >= 1.0, "{first}");
    // The request and its confirmation at least; a batch may hold several.
    assert!(events >= 2.0 && events >= batches, "{first}");
    assert!(phase(&first, "applying") > 0.0, "{first}");
    assert!(phase(&first, "reading") > 0.0, "{first}");
    assert!(phase(&first, "committing") > 0.0, "{first}");
    // A consumer on a tick is counted too (its wait is its tick's, not counted).
    assert!(
        scraped_value(
            &first,
            "cantine_projection_batches_total{projection=\"audit_chain\"}"
        ) >= 1.0,
        "{first}"
    );

    // Another booking: the counters grow by its batches, they are not set back.
    book_and_confirm(&app, &canteen, &family, &["2017-01-24"]).await;
    all_fresh(&app).await;
    let second = scrape(&app).await;
    assert!(
        reservations(&second, "cantine_projection_batches_total") > batches,
        "{second}"
    );
    assert!(
        reservations(&second, "cantine_projection_batch_events_total") >= events + 2.0,
        "{second}"
    );
    for name in ["waiting", "reading", "applying", "committing"] {
        assert!(
            phase(&second, name) >= phase(&first, name),
            "{name}: {second}"
        );
    }
    assert!(
        phase(&second, "applying") > phase(&first, "applying"),
        "{second}"
    );
}

#[tokio::test]
async fn metrics_on_their_own_listener_are_not_on_the_public_one() {
    let mut settings = test_settings(fresh_database().await, Some(guide_now()));
    settings.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    settings.metrics_token = Some("ignored-with-a-listener".into());
    let application = cantine::startup::Application::build(settings)
        .await
        .unwrap();
    let public = format!("http://{}", application.address());
    let private = format!("http://{}", application.metrics_address().unwrap());
    let server = tokio::spawn(application.run_until_stopped(std::future::pending()));
    let client = reqwest::Client::new();
    let on_public = client
        .get(format!("{public}/metrics"))
        .bearer_auth("ignored-with-a-listener")
        .send()
        .await
        .unwrap();
    assert_eq!(on_public.status(), 404);
    let on_private = client
        .get(format!("{private}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(on_private.status(), 200);
    assert!(on_private
        .text()
        .await
        .unwrap()
        .contains("cantine_db_pool_max_connections"));
    let other = client
        .get(format!("{private}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        404,
        "the metrics listener serves nothing else"
    );
    server.abort();
}

/// `cantine serve` on a free port of this machine: the command, ready to spawn, and its URL.
fn serve_command(database_url: &str, envs: &[(&str, &str)]) -> (Command, String) {
    let port = crate::embedded_default::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut command = cantine(&["serve"], database_url, envs);
    command.env("CANTINE_LISTEN", &listen);
    (command, format!("http://{listen}"))
}

/// `cantine` itself, on this database, with these variables.
fn cantine(args: &[&str], database_url: &str, envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cantine"));
    command
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("CANTINE_DEMO", "0")
        .env_remove("CANTINE_LOG_FORMAT")
        .env_remove("CANTINE_CLOCK");
    for (name, value) in envs {
        command.env(name, value);
    }
    command
}

async fn wait_healthy(base: &str, server: &mut Child) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        assert!(
            server.try_wait().unwrap().is_none(),
            "cantine serve exited early"
        );
        if let Ok(response) = client.get(format!("{base}/health")).send().await {
            if response.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base}/health did not answer within a minute");
}

fn wait_exit(server: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "cantine serve did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn json_logs_carry_the_request_route_and_actor_and_no_secret() {
    let database_url = fresh_database().await;
    let seed = spawn_app_on(database_url.clone(), guide_now()).await;
    let admin = seed
        .staff_token(cantine::domain::account::Role::Admin)
        .await;
    family_with_child(&seed, &admin, "Dupont", "Léa").await;
    drop(seed);

    let (mut command, base) = serve_command(
        &database_url,
        &[("CANTINE_LOG_FORMAT", "json"), ("RUST_LOG", "info")],
    );
    let mut server = command.stdout(Stdio::piped()).spawn().unwrap();
    let stdout = server.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    wait_healthy(&base, &mut server).await;
    let client = reqwest::Client::new();
    let (login,): (String,) = sqlx::query_as("SELECT login FROM users WHERE role = 'family'")
        .fetch_one(&sqlx::PgPool::connect(&database_url).await.unwrap())
        .await
        .unwrap();
    let session: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"login": login, "password": "mot-de-passe"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_string();
    let family = client
        .get(format!("{base}/api/v1/family"))
        .bearer_auth(&token)
        .header("x-request-id", "req-json-log-1")
        .send()
        .await
        .unwrap();
    assert_eq!(family.status(), 200);
    kill(Pid::from_raw(server.id() as i32), Signal::SIGTERM).unwrap();
    assert!(wait_exit(&mut server, Duration::from_secs(30)).success());
    let lines = lines.join().unwrap();

    let json_lines: Vec<Value> = lines
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!json_lines.is_empty(), "{lines:?}");
    let answered = json_lines
        .iter()
        .find(|l| l["span"]["request_id"] == "req-json-log-1")
        .unwrap_or_else(|| panic!("no line of the request: {lines:#?}"));
    let span = &answered["span"];
    assert_eq!(span["route"], "/api/v1/family", "{answered}");
    assert_eq!(span["role"], "family", "{answered}");
    assert!(
        span["actor"].as_str().is_some_and(|a| a.len() == 36),
        "{answered}"
    );
    assert!(answered["timestamp"].is_string() && answered["level"].is_string());
    let everything = lines.join("\n");
    assert!(!everything.contains(&token), "a session token in the logs");
    assert!(
        !everything.contains("mot-de-passe"),
        "a password in the logs"
    );
}

#[tokio::test]
async fn sigterm_under_load_finishes_what_it_answered_and_loses_nothing() {
    let database_url = fresh_database().await;
    let seed = spawn_app_on(database_url.clone(), guide_now()).await;
    let admin = seed
        .staff_token(cantine::domain::account::Role::Admin)
        .await;
    let canteen = setup_repausset(&seed).await;
    let mut families = Vec::new();
    for n in 0..8 {
        families.push(family_with_child(&seed, &admin, &format!("Famille{n}"), "Léa").await);
    }
    drop(seed);

    let (mut command, base) = serve_command(
        &database_url,
        &[
            ("CANTINE_CLOCK", "2017-01-11T13:38:00Z"),
            ("RUST_LOG", "warn"),
        ],
    );
    let mut server = command.spawn().unwrap();
    wait_healthy(&base, &mut server).await;

    // Each client books one day after another until the server stops answering.
    let days: Vec<String> = (23..=31)
        .map(|d| format!("2017-01-{d}"))
        .chain((1..=28).map(|d| format!("2017-02-{d:02}")))
        .collect();
    let mut clients = Vec::new();
    for family in families {
        let base = base.clone();
        let days = days.clone();
        let period_id = canteen.period_id.clone();
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut acknowledged = Vec::new();
            let mut server_errors = Vec::new();
            for day in days {
                let sent = client
                    .post(format!("{base}/api/v1/reservations"))
                    .bearer_auth(&family.token)
                    .json(&json!({"child_id": family.child_id, "period_id": period_id, "days": [day]}))
                    .send()
                    .await;
                match sent {
                    Ok(response) => {
                        let status = response.status();
                        if status.is_server_error() {
                            server_errors.push(status.as_u16());
                        } else if status == 201 {
                            let body: Value = response.json().await.unwrap();
                            acknowledged.push(body["id"].as_str().unwrap().to_string());
                        }
                    }
                    // Refused or reset connections: the server has stopped listening.
                    Err(_) => break,
                }
            }
            (acknowledged, server_errors)
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    kill(Pid::from_raw(server.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait_exit(&mut server, Duration::from_secs(40));
    assert!(status.success(), "{status:?}");

    let mut acknowledged = Vec::new();
    for client in clients {
        let (ids, server_errors) = client.await.unwrap();
        assert!(
            server_errors.is_empty(),
            "5xx during the stop: {server_errors:?}"
        );
        acknowledged.extend(ids);
    }
    assert!(
        acknowledged.len() >= 8,
        "the load did not run before the stop: {acknowledged:?}"
    );
    // Every booking the clients were told about is in the log, with its places.
    let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
    for id in &acknowledged {
        let (events,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'ReservationRequested'",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(
            events, 1,
            "reservation {id} was answered 201 but is not in the log"
        );
    }
    // The projectors stopped between batches: a restart goes on from their checkpoints and
    // shows every acknowledged reservation.
    let restarted = spawn_app_on(database_url.clone(), guide_now()).await;
    all_fresh(&restarted).await;
    let (projected,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM reservation_view WHERE id::text = ANY($1)")
            .bind(&acknowledged)
            .fetch_one(&restarted.pool)
            .await
            .unwrap();
    assert_eq!(projected as usize, acknowledged.len());
}

#[tokio::test]
async fn a_backup_restored_into_a_fresh_cluster_verifies_with_the_same_chain_head() {
    let database_url = fresh_database().await;
    let app = spawn_app_on(database_url.clone(), guide_now()).await;
    let admin = app.staff_token(cantine::domain::account::Role::Admin).await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &admin, "Dupont", "Léa").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    pay(&app, &family, &[&id]).await;
    all_fresh(&app).await;
    drop(app);

    let dir = std::env::temp_dir().join(format!("cantine-backup-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cantine.dump");
    let backup = cantine(
        &["backup", "--to", file.to_str().unwrap()],
        &database_url,
        &[],
    )
    .output()
    .unwrap();
    assert!(backup.status.success(), "{backup:?}");
    assert!(std::fs::metadata(&file).unwrap().len() > 0);

    let fresh = EmbeddedPostgres::start(
        &dir.join("pg"),
        StartOptions {
            fast_unsafe: true,
            ..StartOptions::default()
        },
    )
    .expect("a fresh cluster");
    let restored_url = fresh.url("postgres");
    let restore = cantine(
        &["restore", "--from", file.to_str().unwrap()],
        &restored_url,
        &[],
    )
    .output()
    .unwrap();
    assert!(restore.status.success(), "{restore:?}");
    // Restoring over a database that already holds a service is refused.
    let again = cantine(
        &["restore", "--from", file.to_str().unwrap()],
        &restored_url,
        &[],
    )
    .output()
    .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{again:?}"
    );

    let verify = cantine(&["audit", "verify"], &restored_url, &[])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{verify:?}");
    assert!(printed.contains("differing rows: 0"), "{printed}");

    let head = |url: String| async move {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let (position, hash): (i64, String) = sqlx::query_as(
            "SELECT global_position, hash FROM audit_chain ORDER BY global_position DESC LIMIT 1",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        let (events,): (i64,) = sqlx::query_as("SELECT count(*) FROM events")
            .fetch_one(&pool)
            .await
            .unwrap();
        (position, hash, events)
    };
    let original = head(database_url).await;
    let restored = head(restored_url).await;
    assert!(original.2 > 0);
    assert_eq!(original, restored);
    drop(fresh);
    let _ = std::fs::remove_dir_all(&dir);
}
