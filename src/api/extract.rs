//! Extractors that answer problem+json when the request is unusable, and the caller's identity.

use axum::extract::{FromRequest, FromRequestParts, Path, Query};
use axum::http::header;
use axum::http::request::Parts;
use uuid::Uuid;

use super::error::ApiError;
use crate::accounts::{token_hash, Role};
use crate::app::AppState;
use crate::commands::CommandMeta;
use crate::db;
use crate::domain::reservation::Actor;

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

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
}

impl Caller {
    /// Allows the route to the listed roles only.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

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

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        let user = db::accounts::session_user(&state.pool, &token_hash(token), state.clock.now())
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        let role = Role::parse(&user.role)
            .ok_or_else(|| ApiError::internal(format!("unknown role {}", user.role)))?;
        Ok(Caller {
            user_id: user.user_id,
            role,
            family_id: user.family_id,
            request_id: request_id(parts),
        })
    }
}
