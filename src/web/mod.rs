//! Everything HTTP: the route table and its guards, the JSON API (`api`), the pages that the
//! family portal (`portal`) and the back office (`backoffice`) share (`pages`), idempotency,
//! headers and server timing. Handlers call `crate::app`, never each other: no page calls an API
//! handler, and no API module imports a page module.
//!
//! Every route is declared in `routes.rs` with the roles it allows; the router is built from that
//! table (see there how to add a route).

pub mod access;
pub mod api;
pub mod backoffice;
pub mod csv_response;
pub mod error;
pub mod extract;
pub mod file_download;
pub mod headers;
pub mod idempotency;
pub mod observability;
pub mod pages;
pub mod portal;
pub mod problem_edge;
pub mod provider_headers;
pub mod roles;
pub mod roll_call_csv;
pub mod routes;
pub mod server_timing;
pub mod text_guard;
pub mod town_prefix;
pub mod towns;
pub mod xml_response;

use std::any::Any;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Request, StatusCode};
use axum::middleware::map_response_with_state;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::app::Cantine;
use error::ApiError;

/// JSON bodies of this API are small; anything larger is refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: Cantine) -> Router {
    let mut router = routes::build(&state)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(axum::middleware::from_fn(server_timing::record))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request<_>| {
                            let request_id = request
                                .headers()
                                .get("x-request-id")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-");
                            // route, role and actor are filled in once known (the route by
                            // `observability::record`, the caller by the access guard).
                            tracing::info_span!(
                                "http",
                                method = %request.method(),
                                path = %request.uri().path(),
                                request_id,
                                route = tracing::field::Empty,
                                role = tracing::field::Empty,
                                actor = tracing::field::Empty,
                            )
                        })
                        // One access line a request, in the request's span (so with its route and
                        // caller), at info: what an operator's log collector keeps.
                        .on_response(
                            tower_http::trace::DefaultOnResponse::new()
                                .level(tracing::Level::INFO)
                                .latency_unit(tower_http::LatencyUnit::Micros),
                        ),
                )
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    observability::record,
                ))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(axum::middleware::from_fn(
                    problem_edge::api_errors_as_problems,
                ))
                .layer(axum::middleware::from_fn(
                    text_guard::refuse_control_characters,
                ))
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        // Outermost, so that panics, 413s and the fallback carry the headers too.
        .layer(map_response_with_state(
            state.security.hsts,
            headers::add_security_headers,
        ));
    if let Some(cors) = headers::cors(&state.security.cors_origins) {
        router = router.layer(cors);
    }
    router.with_state(state)
}

/// Serves the router with the peers' addresses, which the login throttle needs.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves `GET /metrics` alone on the metrics listener until `shutdown` completes.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    state: Cantine,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, observability::metrics_router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// 200 when the database answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200), (status = 503)))]
pub async fn health(State(state): State<Cantine>) -> Response {
    if crate::app::queries::operations::database_answers(&state).await {
        Json(serde_json::json!({"status": "ok"})).into_response()
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database does not answer",
        )
        .into_response()
    }
}

/// Whether a path is the API's (or a probe's): its refusals are problem+json, not pages.
fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/api" || ["/metrics", "/health", "/ready"].contains(&path)
}

/// A refusal of an address as a French page with the way back: the back office's under
/// `/gestion`, the portal's otherwise.
fn address_page(
    path: &str,
    status: StatusCode,
    title: &str,
    portal: &str,
    back_office: &str,
) -> Response {
    if path == backoffice::HOME || path.starts_with("/gestion/") {
        return backoffice::layout::error_page(status, title, back_office);
    }
    pages::error::error_page(status, title, portal)
}

/// An unknown address: the API's problem+json under `/api/` (and for the probes), a French
/// page with the way back elsewhere; a family logged in keeps the portal's menu.
async fn not_found(
    State(state): State<Cantine>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    let path = uri.path();
    if is_api_path(path) {
        return ApiError::not_found("route").into_response();
    }
    if !path.starts_with("/gestion") {
        if let Some(page) = portal::not_found_for_family(&state, &headers).await {
            return page;
        }
    }
    address_page(
        path,
        StatusCode::NOT_FOUND,
        "Page introuvable",
        "Cette page n'existe pas. Vérifiez l'adresse, ou repartez de l'accueil du portail.",
        "Cette page n'existe pas dans l'espace de gestion. Vérifiez l'adresse, ou repartez de l'accueil.",
    )
}

/// A page's address opened the wrong way (a form's address typed in the address bar): the same.
async fn method_not_allowed(uri: axum::http::Uri) -> Response {
    let path = uri.path();
    if is_api_path(path) {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this route does not take this method",
        )
        .into_response();
    }
    address_page(
        path,
        StatusCode::METHOD_NOT_ALLOWED,
        "Page introuvable",
        "Cette adresse est celle d'un formulaire : elle ne s'ouvre pas directement. Repartez de l'accueil du portail.",
        "Cette adresse est celle d'un formulaire : elle ne s'ouvre pas directement. Repartez de l'accueil.",
    )
}

fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::internal("handler panicked").into_response()
}
