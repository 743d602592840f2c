//! Login: argon2 password check, lock after three wrong passwords in a row, opaque tokens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::extract::ApiJson;
use crate::accounts::{new_session_token, verify_password, LOCK_AFTER_FAILURES, SESSION_HOURS};
use crate::app::AppState;
use crate::db;

#[derive(Deserialize, ToSchema)]
pub struct Login {
    pub login: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub role: String,
    pub family_id: Option<Uuid>,
}

fn locked() -> ApiError {
    ApiError::new(
        StatusCode::LOCKED,
        "account_locked",
        "too many wrong passwords: the account is locked; ask your restaurant to unlock it",
    )
}

fn wrong() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong login or password",
    )
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, body = Session), (status = 401, body = super::error::Problem), (status = 423, body = super::error::Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Login>,
) -> ApiResult<Json<Session>> {
    let user = db::accounts::user_by_login(&state.pool, body.login.trim()).await?;
    let Some(user) = user else {
        return Err(wrong());
    };
    if user.locked_at.is_some() {
        return Err(locked());
    }
    let Some(hash) = user.password_hash.clone() else {
        return Err(wrong());
    };
    let password = body.password;
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(ApiError::internal)?;
    let now = state.clock.now();
    if !matches {
        let now_locked =
            db::accounts::record_failed_login(&state.pool, user.id, LOCK_AFTER_FAILURES, now)
                .await?;
        tracing::info!(user = %user.id, locked = now_locked, "login refused: wrong password");
        return Err(if now_locked { locked() } else { wrong() });
    }
    db::accounts::record_successful_login(&state.pool, user.id).await?;
    let (token, hash) = new_session_token();
    let expires_at = now + Duration::hours(SESSION_HOURS);
    db::accounts::insert_session(&state.pool, &hash, user.id, now, expires_at).await?;
    tracing::info!(user = %user.id, role = %user.role, "login");
    Ok(Json(Session {
        token,
        expires_at,
        role: user.role,
        family_id: user.family_id,
    }))
}
