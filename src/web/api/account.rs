//! A logged-in user's own account: changing the password or the login (a family's e-mail)
//! needs the current password, so that a session left open is not enough to take the account.
//! A wrong current password counts like a wrong login password (lock, delays).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{
    check_password, check_throttles, count_wrong_password, locked, open_session, throttled,
    Session, MAX_PASSWORD_CHARS,
};
use super::password::{check_new_password, hash_new_password};
use crate::app::Cantine;
use crate::db;
use crate::db::accounts::{LoginAttempt, UserRow};
use crate::domain::account::{is_email, Role};
use crate::web::access::ClientAddr;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiJson, Caller};

/// The caller's account, once its current password is proven.
async fn prove_current_password(
    state: &Cantine,
    caller: &Caller,
    client: &str,
    current_password: &str,
) -> ApiResult<UserRow> {
    let now = state.clock.now();
    let user = db::accounts::user_by_id(&state.pool, caller.user_id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    check_throttles(state, Some(user.id), client, now).map_err(throttled)?;
    let matches = current_password.chars().count() <= MAX_PASSWORD_CHARS
        && check_password(current_password, user.password_hash.as_deref()).await?;
    if matches {
        return Ok(user);
    }
    let now_locked = count_wrong_password(state, &user, client, now).await?;
    db::accounts::log_login_attempt(
        &state.pool,
        LoginAttempt {
            at: now,
            user_id: Some(user.id),
            login: Some(&user.login),
            client,
            result: if now_locked {
                "locked"
            } else {
                "wrong_password"
            },
        },
    )
    .await?;
    Err(if now_locked {
        locked()
    } else {
        ApiError::rule("wrong_password", "the current password is wrong")
    })
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
    check_new_password(&body.new_password)?;
    let user = prove_current_password(&state, &caller, &client, &body.current_password).await?;
    let hash = hash_new_password(&body.new_password).await?;
    let now = state.clock.now();
    db::accounts::set_password(&state.pool, user.id, &hash, now).await?;
    tracing::info!(user = %user.id, "password changed; every session ended");
    Ok(Json(open_session(&state, &user, now).await?))
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

/// Checks a login for an account of this role: families log in with their e-mail.
pub fn valid_login(role: Role, login: &str) -> ApiResult<()> {
    if role == Role::Family && !is_email(login) {
        return Err(ApiError::rule(
            "invalid_login",
            "a family's login is its e-mail address",
        ));
    }
    if login.is_empty() || login.len() > 254 || login.chars().any(char::is_whitespace) {
        return Err(ApiError::rule(
            "invalid_login",
            "a login has 1 to 254 characters, without spaces",
        ));
    }
    Ok(())
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
    let new_login = body.new_login.trim();
    valid_login(caller.role, new_login)?;
    let user = prove_current_password(&state, &caller, &client, &body.current_password).await?;
    if !db::accounts::change_login(&state.pool, user.id, new_login).await? {
        return Err(login_taken());
    }
    tracing::info!(user = %user.id, "login changed");
    Ok(Json(LoginChanged {
        login: new_login.to_string(),
    }))
}

pub fn login_taken() -> ApiError {
    ApiError::conflict("login_taken", "this login is already used")
}
