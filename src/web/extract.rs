//! Extractors that answer problem+json when the request is unusable, and the caller's identity.

use axum::extract::{FromRequest, FromRequestParts, Path, Query};
use axum::http::request::Parts;
use uuid::Uuid;

use super::error::ApiError;
use crate::app::Cantine;
use crate::domain::account::Role;
use crate::domain::reservation::Actor;
use crate::store::commands::CommandMeta;

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

/// The logged-in caller, from the bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: Uuid,
    pub role: Role,
    pub family_id: Option<Uuid>,
    pub request_id: String,
    /// The hash of the session's token, to end this session (logout).
    pub session_hash: Vec<u8>,
}

impl Caller {
    /// The family of a family account: family routes never take it from the request.
    pub fn family(&self) -> Result<Uuid, ApiError> {
        match (self.role, self.family_id) {
            (Role::Family, Some(id)) => Ok(id),
            _ => Err(ApiError::forbidden()),
        }
    }

    pub fn actor(&self) -> Actor {
        match (self.role, self.family_id) {
            (Role::Family, Some(id)) => Actor::Family(id),
            _ => Actor::Staff,
        }
    }

    pub fn meta(&self) -> CommandMeta {
        CommandMeta {
            actor_id: Some(self.user_id),
            actor_role: self.role.as_str().to_string(),
            request_id: self.request_id.clone(),
        }
    }
}

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
