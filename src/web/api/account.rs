//! A logged-in user's own account over JSON: the password and the login, each proven by the
//! current password (`app::accounts::own_account`).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Session;
use crate::app::accounts::own_account;
use crate::app::Cantine;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::ClientAddr;
use crate::web::extract::{ApiJson, Caller};

/// Kept here for the API modules that check a login.
pub use crate::app::accounts::own_account::valid_login;

/// 409 `login_taken`, for the API modules that create or rename accounts.
pub fn login_taken() -> ApiError {
    own_account::login_taken().into()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's password. Every session of the account ends, this one too; the answer
/// carries a new session for this device.
#[utoipa::path(post, path = "/api/v1/account/password", tag = "account", request_body = PasswordChange,
    responses((status = 200, body = super::auth::Session), (status = 401, body = crate::web::error::Problem),
              (status = 422, body = crate::web::error::Problem), (status = 423, body = crate::web::error::Problem),
              (status = 429, body = crate::web::error::Problem)))]
pub async fn change_password(
    State(state): State<Cantine>,
    ClientAddr(client): ClientAddr,
    caller: Caller,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<Json<Session>> {
    let session = own_account::change_password(
        &state,
        &caller,
        &client,
        &body.current_password,
        &body.new_password,
    )
    .await?;
    Ok(Json(session.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginChange {
    pub current_password: String,
    /// For a family, its new e-mail address.
    pub new_login: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginChanged {
    pub login: String,
}

/// Changes the caller's login (a family's e-mail address).
#[utoipa::path(post, path = "/api/v1/account/login", tag = "account", request_body = LoginChange,
    responses((status = 200, body = LoginChanged), (status = 401, body = crate::web::error::Problem),
              (status = 409, body = crate::web::error::Problem), (status = 422, body = crate::web::error::Problem),
              (status = 423, body = crate::web::error::Problem), (status = 429, body = crate::web::error::Problem)))]
pub async fn change_login(
    State(state): State<Cantine>,
    ClientAddr(client): ClientAddr,
    caller: Caller,
    ApiJson(body): ApiJson<LoginChange>,
) -> ApiResult<Json<LoginChanged>> {
    let login = own_account::change_login(
        &state,
        &caller,
        &client,
        &body.current_password,
        &body.new_login,
    )
    .await?;
    Ok(Json(LoginChanged { login }))
}
