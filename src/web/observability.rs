//! What the edge tells an operator: every answered request counted by its matched route, the
//! readiness probe, and the metrics endpoint (its own listener, or a bearer token; never open
//! to the public portal).

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::error::{ApiError, ApiResult};
use crate::app::accounts::credentials::same_secret;
use crate::app::queries::operations;
use crate::app::{Cantine, MetricsAccess};
use crate::telemetry::metrics::CONTENT_TYPE;

/// The route label of a request no route matched: one series for all of them.
const UNMATCHED: &str = "unmatched";

/// Counts the request by its route's template and times it; also names the route in the
/// request's log span.
pub async fn record(State(state): State<Cantine>, request: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| UNMATCHED.to_string());
    tracing::Span::current().record("route", route.as_str());
    let method = request.method().clone();
    let response = next.run(request).await;
    state.metrics.http_request(
        &route,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// 200 when this server should get traffic; 503 while migrations are missing or a projection
/// is further behind the log than `CANTINE_READY_MAX_LAG_MS`.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, description = "Ready for traffic"),
              (status = 503, body = crate::web::error::Problem, description = "Not ready: migrations missing or a projection behind")))]
pub async fn ready(State(state): State<Cantine>) -> ApiResult<Response> {
    let readiness = operations::readiness(&state).await?;
    if readiness.ready() {
        Ok(Json(serde_json::json!({"status": "ready"})).into_response())
    } else {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            readiness.reason(),
        ))
    }
}

/// The metrics on the public listener: only to `Authorization: Bearer $CANTINE_METRICS_TOKEN`,
/// and not at all when they have a listener of their own or no token is set.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", description = "Prometheus text format"),
              (status = 401, body = crate::web::error::Problem, description = "Without the metrics token"),
              (status = 404, body = crate::web::error::Problem, description = "Metrics are served on CANTINE_METRICS_LISTEN, or not at all")))]
pub async fn metrics_with_token(
    State(state): State<Cantine>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let MetricsAccess::Token(token) = &state.metrics_access else {
        return Err(ApiError::not_found("route"));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let allowed = given.is_some_and(|given| same_secret(given, token));
    if !allowed {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the metrics need the metrics token",
        ));
    }
    metrics_text(&state).await
}

async fn metrics_text(state: &Cantine) -> ApiResult<Response> {
    let text = operations::metrics_text(state).await?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response())
}

/// The router of `CANTINE_METRICS_LISTEN`: `GET /metrics` and nothing else.
pub fn metrics_router(state: Cantine) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(state): State<Cantine>| async move { metrics_text(&state).await }),
        )
        .with_state(state)
}
