//! Extractors that answer problem+json when the request is unusable, and the caller's identity.

use axum::extract::{FromRequest, FromRequestParts, Path, Query};
use axum::http::request::Parts;

use super::error::ApiError;
pub use crate::app::Caller;
use crate::app::Cantine;

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A form body (the HTML pages).
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(ApiError))]
pub struct ApiForm<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

pub fn request_id(parts: &Parts) -> String {
    request_id_of(&parts.headers)
}

pub fn request_id_of(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string()
}

/// The caller resolved by the route's guard (`access::guard`). A handler that takes a `Caller` on
/// a route declared without a session is a mistake in the route table, answered 500.
impl FromRequestParts<Cantine> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &Cantine,
    ) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError::internal(format!(
                "{} {} takes a caller but its route does not require a session: declare its access in api/routes.rs",
                parts.method,
                parts.uri.path()
            ))
        })
    }
}
