//! Login and logout over JSON. The rules (lock after three wrong passwords, delays per account
//! and per address, the login log) are `app::accounts::sessions`'.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::accounts::sessions::{self, OpenedSession};
use crate::app::Cantine;
use crate::web::error::ApiResult;
use crate::web::extract::ClientAddr;
use crate::web::extract::{ApiJson, Caller};

/// Kept here for the API modules that name the throttle key of an account.
pub use crate::app::accounts::sessions::account_key;

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

impl From<OpenedSession> for Session {
    fn from(session: OpenedSession) -> Self {
        Session {
            token: session.token,
            expires_at: session.expires_at,
            role: session.role.as_str().to_string(),
            family_id: session.family_id,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login, security(()),
    responses((status = 200, body = Session), (status = 401, body = crate::web::error::Problem),
              (status = 403, body = crate::web::error::Problem), (status = 423, body = crate::web::error::Problem),
              (status = 429, body = crate::web::error::Problem)))]
pub async fn login(
    State(state): State<Cantine>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<Login>,
) -> ApiResult<Json<Session>> {
    let session = sessions::sign_in(&state, &client, &body.login, &body.password).await?;
    Ok(Json(session.into()))
}

/// Ends this session: its token answers 401 from now on.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = crate::web::error::Problem)))]
pub async fn logout(State(state): State<Cantine>, caller: Caller) -> ApiResult<StatusCode> {
    sessions::sign_out(&state, &caller).await?;
    Ok(StatusCode::NO_CONTENT)
}
