//! `Idempotency-Key` on POST routes: a repeat within 24 hours gets the first answer and does
//! nothing else; the key belongs to its caller; another request under the same key is refused.

use cantine::web::idempotency::fingerprint;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;

/// An answer with the headers this feature adds.
struct Answer {
    reply: Reply,
    replayed: bool,
    retry_after: Option<String>,
}

async fn send_raw(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    key: reqwest::header::HeaderValue,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let mut request = app
        .raw()
        .await
        .post(format!("{}{}", app.address, path))
        .header("content-type", "application/json")
        .header("Idempotency-Key", key)
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let replayed = match header("idempotent-replayed").as_deref() {
        None => false,
        Some("true") => true,
        Some(other) => panic!("Idempotent-Replayed: {other}"),
    };
    let retry_after = header("retry-after");
    Answer {
        reply: TestApp::reply(response).await,
        replayed,
        retry_after,
    }
}

async fn send(app: &TestApp, path: &str, token: &str, key: &str, body: &Value) -> Answer {
    let key = reqwest::header::HeaderValue::from_str(key).unwrap();
    send_raw(
        app,
        path,
        Some(token),
        key,
        &[],
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

fn booking(canteen: &Canteen, family: &Family, days: &[&str]) -> Value {
    json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": days})
}

async fn book(app: &TestApp, canteen: &Canteen, family: &Family, key: &str) -> Answer {
    let body = booking(canteen, family, &["2017-01-23", "2017-01-24"]);
    send(app, "/api/v1/reservations", &family.token, key, &body).await
}

async fn requested_events(app: &TestApp, family: &Family) -> i64 {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM events WHERE event_type = 'ReservationRequested'
            AND payload->'ReservationRequested'->>'family_id' = $1",
    )
    .bind(&family.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    n
}

async fn world() -> (TestApp, Canteen, Family) {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    (app, canteen, family)
}

#[tokio::test]
async fn a_repeated_booking_gets_the_first_answer_and_books_once() {
    let (app, canteen, family) = world().await;
    let first = book(&app, &canteen, &family, "book-2017-01").await;
    first.reply.assert_status(201);
    assert!(!first.replayed);
    let again = book(&app, &canteen, &family, "book-2017-01").await;
    again.reply.assert_status(201);
    assert!(again.replayed, "the repeat says it is a replay");
    assert_eq!(again.reply.body, first.reply.body, "the same reservation");
    assert_eq!(again.reply.content_type, "application/json");
    assert_eq!(requested_events(&app, &family).await, 1);
}

#[tokio::test]
async fn the_same_key_on_another_request_is_refused_and_changes_nothing() {
    let (app, canteen, family) = world().await;
    book(&app, &canteen, &family, "k1")
        .await
        .reply
        .assert_status(201);
    let other_days = booking(&canteen, &family, &["2017-01-27"]);
    let reused = send(
        &app,
        "/api/v1/reservations",
        &family.token,
        "k1",
        &other_days,
    )
    .await;
    reused.reply.assert_problem(422, "idempotency_key_reused");
    assert!(!reused.replayed);
    assert_eq!(requested_events(&app, &family).await, 1);
    // The same body on another route is another request too.
    let elsewhere = send(&app, "/api/v1/payments", &family.token, "k1", &other_days).await;
    elsewhere
        .reply
        .assert_problem(422, "idempotency_key_reused");
}

#[tokio::test]
async fn concurrent_repeats_book_once() {
    let (app, canteen, family) = world().await;
    let answers = futures::future::join_all(
        (0..10).map(|_| book(&app, &canteen, &family, "same-click-ten-times")),
    )
    .await;
    let ran: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.reply.status == 201 && !a.replayed)
        .collect();
    assert_eq!(ran.len(), 1, "exactly one request runs the handler");
    let created = &ran[0].reply.body;
    for answer in &answers {
        match answer.reply.status.as_u16() {
            201 => assert_eq!(&answer.reply.body, created),
            409 => {
                answer.reply.assert_problem(409, "idempotency_in_progress");
                assert_eq!(answer.retry_after.as_deref(), Some("1"));
            }
            other => panic!("unexpected {other}: {}", answer.reply.body),
        }
    }
    assert_eq!(requested_events(&app, &family).await, 1);
}

#[tokio::test]
async fn another_caller_with_the_same_key_gets_its_own_answer() {
    let (app, canteen, dupont) = world().await;
    let martin = family_with_child(&app, &canteen.admin, "MARTIN", "Léa").await;
    let first = book(&app, &canteen, &dupont, "shared-key").await;
    first.reply.assert_status(201);
    // The very same request from another family is that family's request: Dupont's child is
    // not Martin's, and Dupont's answer is never shown.
    let dupont_body = booking(&canteen, &dupont, &["2017-01-23", "2017-01-24"]);
    let stranger = send(
        &app,
        "/api/v1/reservations",
        &martin.token,
        "shared-key",
        &dupont_body,
    )
    .await;
    stranger.reply.assert_problem(404, "unknown_child");
    assert!(!stranger.replayed);
    let own = send(
        &app,
        "/api/v1/reservations",
        &martin.token,
        "other-key",
        &booking(&canteen, &martin, &["2017-01-23"]),
    )
    .await;
    own.reply.assert_status(201);
    let again = book(&app, &canteen, &martin, "shared-key").await;
    again.reply.assert_problem(422, "idempotency_key_reused");
    assert_eq!(requested_events(&app, &dupont).await, 1);
    assert_eq!(requested_events(&app, &martin).await, 1);
    assert_ne!(own.reply.body["id"], first.reply.body["id"]);
}

#[tokio::test]
async fn a_refusal_is_replayed_as_the_same_refusal() {
    let (app, canteen, family) = world().await;
    // Wednesday: not an opening day of Le Repausset.
    let wednesday = booking(&canteen, &family, &["2017-01-25"]);
    let first = send(
        &app,
        "/api/v1/reservations",
        &family.token,
        "wed",
        &wednesday,
    )
    .await;
    first.reply.assert_problem(422, "closed_day");
    let again = send(
        &app,
        "/api/v1/reservations",
        &family.token,
        "wed",
        &wednesday,
    )
    .await;
    again.reply.assert_problem(422, "closed_day");
    assert!(again.replayed);
    assert_eq!(again.reply.body, first.reply.body);
    assert_eq!(requested_events(&app, &family).await, 0);
}

#[tokio::test]
async fn an_invalid_key_is_refused() {
    let (app, canteen, family) = world().await;
    let body = serde_json::to_vec(&booking(&canteen, &family, &["2017-01-23"])).unwrap();
    let long = "k".repeat(256);
    let invalid = [
        reqwest::header::HeaderValue::from_static(""),
        reqwest::header::HeaderValue::from_str(&long).unwrap(),
        reqwest::header::HeaderValue::from_static("two words"),
        reqwest::header::HeaderValue::from_bytes("clé".as_bytes()).unwrap(),
    ];
    for key in invalid {
        let answer = send_raw(
            &app,
            "/api/v1/reservations",
            Some(&family.token),
            key.clone(),
            &[],
            body.clone(),
        )
        .await;
        answer.reply.assert_problem(400, "invalid_idempotency_key");
    }
    let longest = "k".repeat(255);
    let answer = send_raw(
        &app,
        "/api/v1/reservations",
        Some(&family.token),
        reqwest::header::HeaderValue::from_str(&longest).unwrap(),
        &[],
        body,
    )
    .await;
    answer.reply.assert_status(201);
    assert_eq!(requested_events(&app, &family).await, 1);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_a_key_too() {
    let (app, _, family) = world().await;
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(70 * 1024)).into_bytes();
    let answer = send_raw(
        &app,
        "/api/v1/reservations",
        Some(&family.token),
        reqwest::header::HeaderValue::from_static("huge"),
        &[],
        huge,
    )
    .await;
    answer.reply.assert_problem(413, "body_too_large");
}

#[tokio::test]
async fn a_repeated_payment_starts_one_payment() {
    let (app, canteen, family) = world().await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    let body = json!({"reservation_ids": [id]});
    let first = send(&app, "/api/v1/payments", &family.token, "pay-once", &body).await;
    first.reply.assert_status(201);
    let again = send(&app, "/api/v1/payments", &family.token, "pay-once", &body).await;
    again.reply.assert_status(201);
    assert!(again.replayed);
    assert_eq!(again.reply.body["id"], first.reply.body["id"]);
    let (payments,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM payments WHERE family_id = $1::uuid")
            .bind(&family.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(payments, 1);
}

async fn notify(app: &TestApp, payment_id: &str, amount: &Value, key: &str) -> Answer {
    let body = json!({"payment_id": payment_id, "status": "succeeded", "amount": amount, "provider_ref": "PSP-1"});
    let raw = serde_json::to_vec(&body).unwrap();
    let signature = cantine::web::api::payments::sign(PAYMENT_SECRET.as_bytes(), &raw);
    send_raw(
        app,
        &format!("/api/v1/payments/{payment_id}/notify"),
        None,
        reqwest::header::HeaderValue::from_str(key).unwrap(),
        &[("Cantine-Signature", &signature)],
        raw,
    )
    .await
}

async fn kept_keys(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM idempotency_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    n
}

#[tokio::test]
async fn after_24_hours_the_key_runs_the_handler_again() {
    let (app, canteen, family) = world().await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    let payment = app
        .post(
            "/api/v1/payments",
            &family.token,
            json!({"reservation_ids": [id]}),
        )
        .await;
    let payment = payment.assert_status(201).clone();
    let (payment_id, amount) = (payment["id"].as_str().unwrap(), &payment["amount"]);
    // The provider's notifications carry no session: their keys are the anonymous caller's,
    // and the signature still checks out over the body the layer read.
    let first = notify(&app, payment_id, amount, "psp-event-1").await;
    first.reply.assert_status(200);
    assert!(!first.replayed);
    let again = notify(&app, payment_id, amount, "psp-event-1").await;
    assert!(again.replayed);
    assert_eq!(again.reply.body, first.reply.body);

    app.wait_seconds(24 * 3600 + 60);
    let next_day = notify(&app, payment_id, amount, "psp-event-1").await;
    next_day.reply.assert_status(200);
    assert!(!next_day.replayed, "a day later the key is new again");

    assert_eq!(kept_keys(&app).await, 1, "one key, replaced");
    app.wait_seconds(24 * 3600 + 60);
    let purged = cantine::db::idempotency::purge(&app.pool, app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(kept_keys(&app).await, 0);
}

#[tokio::test]
async fn a_key_left_running_by_a_dead_server_is_taken_over_after_the_lease() {
    let (app, canteen, family) = world().await;
    app.pause_clock();
    let body = serde_json::to_vec(&booking(&canteen, &family, &["2017-01-23"])).unwrap();
    let path = "/api/v1/reservations";
    let scope = hex::encode(Sha256::digest(format!("Bearer {}", family.token)));
    sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, state, owner, created_at, started_at)
         VALUES ($1, 'crash', $2, 'in_progress', gen_random_uuid(), $3, $3)",
    )
    .bind(&scope)
    .bind(fingerprint(&Method::POST, &path.parse().unwrap(), &body))
    .bind(app.state.clock.now())
    .execute(&app.pool)
    .await
    .unwrap();
    let key = || reqwest::header::HeaderValue::from_static("crash");
    let token = Some(family.token.as_str());
    let waiting = send_raw(&app, path, token, key(), &[], body.clone()).await;
    waiting.reply.assert_problem(409, "idempotency_in_progress");
    assert_eq!(waiting.retry_after.as_deref(), Some("1"));
    assert_eq!(requested_events(&app, &family).await, 0);

    app.wait_seconds(61);
    let taken_over = send_raw(&app, path, token, key(), &[], body.clone()).await;
    taken_over.reply.assert_status(201);
    assert!(!taken_over.replayed);
    let again = send_raw(&app, path, token, key(), &[], body).await;
    assert!(again.replayed);
    assert_eq!(again.reply.body, taken_over.reply.body);
    assert_eq!(requested_events(&app, &family).await, 1);
}

#[tokio::test]
async fn requests_without_a_key_are_untouched() {
    let (app, canteen, family) = world().await;
    let body = booking(&canteen, &family, &["2017-01-23"]);
    app.post("/api/v1/reservations", &family.token, body.clone())
        .await
        .assert_status(201);
    app.post("/api/v1/reservations", &family.token, body)
        .await
        .assert_problem(422, "already_booked");
    assert_eq!(kept_keys(&app).await, 0);
}

#[tokio::test]
async fn answers_carrying_a_session_token_are_never_kept() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let login = format!("dupont-{}@example.fr", uuid::Uuid::new_v4().simple());
    app.post(
        "/api/v1/admin/families",
        &canteen.admin,
        json!({"name": "DUPONT", "login": login, "password": "mot-de-passe"}),
    )
    .await
    .assert_status(201);
    let body = serde_json::to_vec(&json!({"login": login, "password": "mot-de-passe"})).unwrap();
    let key = || reqwest::header::HeaderValue::from_static("login-once");
    let path = "/api/v1/auth/login";
    let first = send_raw(&app, path, None, key(), &[], body.clone()).await;
    let second = send_raw(&app, path, None, key(), &[], body).await;
    first.reply.assert_status(200);
    second.reply.assert_status(200);
    assert!(!second.replayed);
    assert_ne!(first.reply.body["token"], second.reply.body["token"]);
    assert_eq!(kept_keys(&app).await, 0, "no token is stored in clear");
}

#[tokio::test]
async fn the_openapi_document_declares_the_header_on_post_routes() {
    let app = spawn_app().await;
    let reply = app
        .request(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let paths = &reply.assert_status(200)["paths"];
    let declares = |path: &str| {
        paths[path]["post"]["parameters"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["name"] == "Idempotency-Key"))
    };
    assert!(declares("/api/v1/reservations"));
    assert!(declares("/api/v1/payments"));
    assert!(!declares("/api/v1/auth/login"));
}
