//! Extractors that answer problem+json when the request is unusable, and the caller's identity.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query};
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
                "{} {} takes a caller but its route does not require a session: declare its access in web/routes.rs",
                parts.method,
                parts.uri.path()
            ))
        })
    }
}

/// Where the request comes from: the peer address, or, only when the service is configured to
/// sit behind a proxy (`CANTINE_TRUST_FORWARDED_FOR=1`), the address that proxy appended last to
/// `X-Forwarded-For` (earlier entries are whatever the client wrote).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequestParts<Cantine> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Cantine,
    ) -> Result<Self, Self::Rejection> {
        if state.security.trust_forwarded_for {
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .rfind(|v| !v.is_empty());
            if let Some(addr) = forwarded {
                return Ok(ClientAddr(addr.chars().take(64).collect()));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientAddr(peer))
    }
}
