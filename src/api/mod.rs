//! The thin HTTP layer: handlers turn requests into commands or read the projections.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod csv_response;
pub mod error;
pub mod extract;
pub mod family;
pub mod finance;
pub mod kitchen;
pub mod money;
pub mod openapi;
pub mod operations;
pub mod payments;
pub mod reservations;

use std::any::Any;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use error::ApiError;

/// JSON bodies of this API are small; anything larger is refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/login", post(auth::login))
        .route("/admin/restaurants", post(admin::create_restaurant))
        .route("/admin/periods", post(admin::create_period))
        .route("/admin/families", post(admin::create_family))
        .route("/admin/families/{id}/children", post(admin::create_child))
        .route("/admin/clock", post(admin::advance_clock))
        .route("/admin/periods/{id}/capacity", put(admin::set_capacity))
        .route("/family", get(family::family))
        .route("/establishments", get(family::establishments))
        .route("/children/{child_id}/calendar", get(family::calendar))
        .route(
            "/reservations",
            post(reservations::create).get(reservations::list),
        )
        .route("/reservations/{id}", get(reservations::detail))
        .route("/reservations/{id}/confirm", post(reservations::confirm))
        .route("/reservations/{id}/cancel", post(reservations::cancel))
        .route("/cart", get(payments::cart))
        .route("/payments", post(payments::create))
        .route("/payments/{id}/notify", post(payments::notify))
        .route(
            "/payments/{id}/checkout",
            get(payments::checkout_page).post(payments::checkout_submit),
        )
        .route("/invoices", get(payments::invoices))
        .route("/restaurants/{id}/headcounts", get(kitchen::headcounts))
        .route("/finance/invoices", get(finance::invoices))
        .route("/audit/events", get(audit::events))
        .route("/admin/projections", get(operations::projections))
        .route("/openapi.json", get(openapi::document));
    Router::new()
        .route("/health", get(health))
        .nest("/api/v1", api)
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("http", method = %request.method(), path = %request.uri().path(), request_id)
                }))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .with_state(state)
}

/// 200 when the database answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200), (status = 503)))]
pub async fn health(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").execute(&state.pool).await {
        Ok(_) => Json(serde_json::json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the database does not answer",
            )
            .into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::internal("handler panicked").into_response()
}
