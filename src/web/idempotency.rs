//! `Idempotency-Key` on POST routes: a repeat within 24 hours gets the first answer back, with
//! `Idempotent-Replayed: true`, and does nothing else. Clients that lost an answer (a timeout, a
//! dropped connection) can then send the same request again without booking or paying twice.
//!
//! - The key belongs to the verified caller: the session the route's guard resolved (a hash of
//!   its header, so the table holds no usable token), or the payment provider for a notification
//!   that carries its valid signature. The same key from another caller is another key. A
//!   request nobody verified (a stranger's, unsigned) is run without the key and nothing is
//!   kept: its answer stored under a key would otherwise be served to whoever uses it next.
//! - The same key on another request (method, path, query or body) is refused: 422
//!   `idempotency_key_reused`. While the first request runs, a repeat gets 409
//!   `idempotency_in_progress` with `Retry-After: 1`.
//! - Answers 2xx, 3xx and 4xx are kept (a repeated refusal gives the same refusal); a server
//!   error or a transient refusal (429, 409 `concurrent_change`) frees the key, so that the
//!   retry runs for real.
//! - The layer runs after the route's guard: a caller whose session ended cannot replay, and
//!   refusals of the guard are never kept.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tracing::Instrument;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::BODY_LIMIT;
use crate::app::{Caller, Cantine};
use crate::db::idempotency::{self as store, Found, Key, StoredAnswer};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";
const MAX_KEY_LEN: usize = 255;

/// The headers a replay needs besides the status and the body.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::RETRY_AFTER];

/// Routes whose answers carry a secret: a new session token, or (the password form shown again
/// after a mistake) a password link's token. Those are only ever stored as hashes, so these
/// answers are never kept, and the header is ignored there (doing them again is harmless).
const NEVER_KEPT: [&str; 4] = [
    "/api/v1/auth/login",
    "/api/v1/account/password",
    "/mot-de-passe",
    "/connexion",
];

/// One claim in this many purges the keys past their 24 hours, so the table holds at most a
/// day of keys plus this many, without a task of its own.
const PURGE_EVERY: u64 = 256;
static CLAIMS: AtomicU64 = AtomicU64::new(0);

/// Whether the route of the table gets this layer.
pub fn applies_to(method: &Method, path: &str) -> bool {
    *method == Method::POST && !NEVER_KEPT.contains(&path)
}

/// The layer: requests without the header pass untouched.
pub async fn layer(State(state): State<Cantine>, request: Request, next: Next) -> Response {
    handle(state, request, next)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn handle(state: Cantine, request: Request, next: Next) -> ApiResult<Response> {
    let Some(key) = idempotency_key(request.headers())? else {
        return Ok(next.run(request).await);
    };
    let (parts, body) = request.into_parts();
    let body = buffer(body).await?;
    let Some(scope) = scope_of(&state, &parts, &body) else {
        return Ok(next.run(Request::from_parts(parts, Body::from(body))).await);
    };
    let key = Key {
        scope,
        key,
        fingerprint: fingerprint(&parts.method, &parts.uri, &body),
    };
    let request = Request::from_parts(parts, Body::from(body));
    let owner = Uuid::new_v4();
    // Twice at most: the row read after a failed claim can vanish (its handler failed) or pass
    // its 24 hours in between.
    for _ in 0..2 {
        let now = state.clock.now();
        if store::claim(&state.pool, &key, owner, now).await? {
            purge_now_and_then(&state);
            return run_first(state, key, owner, request, next).await;
        }
        if let Some(found) = store::find(&state.pool, &key, now).await? {
            return answer_repeat(found, &key.fingerprint);
        }
    }
    Err(in_progress())
}

/// The key of the request, if it has one: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let mut values = headers.get_all(HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    let valid = values.next().is_none()
        && !bytes.is_empty()
        && bytes.len() <= MAX_KEY_LEN
        && bytes.iter().all(u8::is_ascii_graphic);
    if !valid {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key: one header of 1 to 255 visible ASCII characters",
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// Who the key belongs to, once verified: the session the route's guard resolved (a SHA-256 of
/// the `Authorization` header it checked, as keys have always been scoped), or the payment
/// provider when the body carries its valid signature. `None`: nobody verified, nothing kept.
fn scope_of(state: &Cantine, parts: &Parts, body: &[u8]) -> Option<String> {
    if let Some(caller) = parts.extensions.get::<Caller>() {
        return Some(match parts.headers.get(header::AUTHORIZATION) {
            Some(authorization) => hex::encode(Sha256::digest(authorization.as_bytes())),
            None => format!("session:{}", hex::encode(&caller.session_hash)),
        });
    }
    let provider = &state.payment_provider;
    provider
        .verify(&parts.headers, body)
        .is_ok()
        .then(|| format!("provider:{}", provider.name()))
}

/// What makes two requests the same one.
pub fn fingerprint(method: &Method, uri: &Uri, body: &[u8]) -> String {
    let target = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    format!("{method} {target} {}", hex::encode(Sha256::digest(body)))
}

/// The request body, with the API's limit (the handler gets it back).
async fn buffer(body: Body) -> ApiResult<Bytes> {
    let mut stream = body.into_data_stream();
    let mut buffered = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request("malformed_body", e.to_string()))?;
        if buffered.len() + chunk.len() > BODY_LIMIT {
            return Err(ApiError::body_too_large());
        }
        buffered.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buffered))
}

fn answer_repeat(found: Found, fingerprint: &str) -> ApiResult<Response> {
    match found {
        Found::InProgress { fingerprint: first }
        | Found::Complete {
            fingerprint: first, ..
        } if first != fingerprint => Err(ApiError::rule(
            "idempotency_key_reused",
            "this Idempotency-Key was sent with another request; use a new key",
        )),
        Found::InProgress { .. } => Err(in_progress()),
        Found::Complete { answer, .. } => Ok(replay(answer)),
    }
}

fn in_progress() -> ApiError {
    ApiError {
        retry_after: Some(1),
        ..ApiError::conflict(
            "idempotency_in_progress",
            "the first request with this Idempotency-Key is still running; try again shortly",
        )
    }
}

/// Runs the handler and keeps its answer. In a task of its own, so that a client hanging up
/// neither stops the handler half-way nor leaves the key claimed until the lease ends: its retry
/// gets the answer it missed.
async fn run_first(
    state: Cantine,
    key: Key,
    owner: Uuid,
    request: Request,
    next: Next,
) -> ApiResult<Response> {
    // In the request's span, so that the handler's logs keep their request id.
    let run = run_and_keep(state.clone(), key.clone(), owner, request, next);
    let task = tokio::spawn(run.instrument(tracing::Span::current()));
    match task.await {
        Ok(answer) => answer,
        Err(failure) => {
            free(&state, &key, owner).await;
            Err(ApiError::internal(format!(
                "handler task failed: {failure}"
            )))
        }
    }
}

async fn run_and_keep(
    state: Cantine,
    key: Key,
    owner: Uuid,
    request: Request,
    next: Next,
) -> ApiResult<Response> {
    let (parts, body) = next.run(request).await.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => {
            free(&state, &key, owner).await;
            return Err(ApiError::internal(format!("reading the answer: {e}")));
        }
    };
    if worth_keeping(parts.status, &body) {
        let answer = StoredAnswer {
            status: parts.status.as_u16(),
            headers: kept_headers(&parts.headers),
            body: body.to_vec(),
        };
        if let Err(e) = store::complete(&state.pool, &key, owner, &answer).await {
            // The answer still goes out; a repeat will run the handler again.
            tracing::error!(error = %e, "could not keep an idempotent answer");
            free(&state, &key, owner).await;
        }
    } else {
        free(&state, &key, owner).await;
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

/// Server errors and refusals that say "try again" are not the request's answer.
fn worth_keeping(status: StatusCode, body: &[u8]) -> bool {
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return false;
    }
    status != StatusCode::CONFLICT || problem_code(body).as_deref() != Some("concurrent_change")
}

fn problem_code(body: &[u8]) -> Option<String> {
    let problem: serde_json::Value = serde_json::from_slice(body).ok()?;
    problem["code"].as_str().map(String::from)
}

fn kept_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_string(), value.to_string()))
        })
        .collect()
}

fn replay(answer: StoredAnswer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Frees the key after a failure; logged, since the caller is answered anyway.
async fn free(state: &Cantine, key: &Key, owner: Uuid) {
    if let Err(e) = store::release(&state.pool, key, owner).await {
        tracing::error!(error = %e, "could not free an idempotency key (its lease will end)");
    }
}

fn purge_now_and_then(state: &Cantine) {
    if !CLAIMS
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(PURGE_EVERY)
    {
        return;
    }
    let (pool, now) = (state.pool.clone(), state.clock.now());
    tokio::spawn(async move {
        match store::purge(&pool, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(keys = n, "purged idempotency keys past their 24 hours"),
            Err(e) => tracing::warn!(error = %e, "could not purge idempotency keys"),
        }
    });
}
