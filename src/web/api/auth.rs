//! Login and logout. Three wrong passwords in a row lock the account (423, second guide) until
//! the password link or staff lift it; wrong passwords also earn a growing delay per account and
//! per client address (429 with `Retry-After`). Every attempt is logged, never its password.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::accounts::credentials::{hash_password, new_session_token, verify_password};
use crate::app::accounts::throttle::Refused;
use crate::app::Cantine;
use crate::db;
use crate::db::accounts::{LoginAttempt, UserRow};
use crate::domain::account::{LOCK_AFTER_FAILURES, SESSION_HOURS};
use crate::web::access::ClientAddr;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiJson, Caller};

/// Longer inputs are refused without hashing them: argon2 on megabytes is a denial of service.
pub const MAX_LOGIN_CHARS: usize = 254;
pub const MAX_PASSWORD_CHARS: usize = 256;

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

pub fn locked() -> ApiError {
    ApiError::new(
        StatusCode::LOCKED,
        "account_locked",
        "trois mots de passe erronés : le compte est verrouillé. Générez un nouveau mot de passe \
         (lien par e-mail) ou demandez à votre restaurant de le déverrouiller",
    )
}

fn wrong() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong login or password",
    )
}

fn disabled() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "account_disabled",
        "this account is disabled; ask your restaurant",
    )
}

pub fn throttled(refused: Refused) -> ApiError {
    ApiError::too_many_attempts(refused.retry_after_seconds())
}

/// A hash to check unknown logins against, so that they take as long as known ones.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("not a password of anyone").expect("argon2 hashes"))
}

pub async fn check_password(password: &str, hash: Option<&str>) -> ApiResult<bool> {
    let password = password.to_string();
    let hash = hash.map(str::to_string);
    crate::app::accounts::password_work::run(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            verify_password(&password, decoy_hash());
            false
        }
    })
    .await
    .map_err(ApiError::from)
}

pub fn account_key(user_id: Uuid) -> String {
    format!("account:{user_id}")
}

fn address_key(client: &str) -> String {
    format!("address:{client}")
}

/// A wrong password for this user, counted for the lock and the delays. Answers whether the
/// account is now locked.
pub async fn count_wrong_password(
    state: &Cantine,
    user: &UserRow,
    client: &str,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let now_locked =
        db::accounts::record_failed_login(&state.pool, user.id, LOCK_AFTER_FAILURES, now).await?;
    state
        .throttles
        .account
        .record_failure(&account_key(user.id), now);
    state
        .throttles
        .address
        .record_failure(&address_key(client), now);
    Ok(now_locked)
}

/// Refuses an attempt that comes too early after earlier failures of the account or address.
pub fn check_throttles(
    state: &Cantine,
    user: Option<Uuid>,
    client: &str,
    now: DateTime<Utc>,
) -> Result<(), Refused> {
    state.throttles.address.check(&address_key(client), now)?;
    if let Some(user) = user {
        state.throttles.account.check(&account_key(user), now)?;
    }
    Ok(())
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
    sign_in(&state, &client, &body.login, &body.password)
        .await
        .map(Json)
}

/// Checks a login and password with every rule of the login route (lock, delays, log) and opens
/// a session: the API's login and the portal's login form both go through here.
pub async fn sign_in(
    state: &Cantine,
    client: &str,
    login: &str,
    password: &str,
) -> ApiResult<Session> {
    let state = state.clone();
    let client = client.to_string();
    let body = Login {
        login: login.to_string(),
        password: password.to_string(),
    };
    let now = state.clock.now();
    let typed = body.login.trim();
    let too_long = typed.chars().count() > MAX_LOGIN_CHARS
        || body.password.chars().count() > MAX_PASSWORD_CHARS;
    let user = if too_long {
        None
    } else {
        db::accounts::user_by_login(&state.pool, typed).await?
    };
    let log = |user, result| attempt(now, user, &client, result);
    if let Err(refused) = check_throttles(&state, user.as_ref().map(|u| u.id), &client, now) {
        db::accounts::log_login_attempt(&state.pool, log(user.as_ref(), "throttled")).await?;
        return Err(throttled(refused));
    }
    let Some(user) = user else {
        if !too_long {
            check_password(&body.password, None).await?;
        }
        state
            .throttles
            .address
            .record_failure(&address_key(&client), now);
        db::accounts::log_login_attempt(&state.pool, log(None, "unknown_login")).await?;
        return Err(wrong());
    };
    if user.locked_at.is_some() {
        // Counted for the address, so that locked accounts are no free target.
        state
            .throttles
            .address
            .record_failure(&address_key(&client), now);
        db::accounts::log_login_attempt(&state.pool, log(Some(&user), "locked")).await?;
        return Err(locked());
    }
    let matches = check_password(&body.password, user.password_hash.as_deref()).await?;
    if user.password_hash.is_none() {
        state
            .throttles
            .address
            .record_failure(&address_key(&client), now);
        db::accounts::log_login_attempt(&state.pool, log(Some(&user), "no_password")).await?;
        return Err(wrong());
    }
    if !matches {
        let now_locked = count_wrong_password(&state, &user, &client, now).await?;
        let result = if now_locked {
            "locked"
        } else {
            "wrong_password"
        };
        db::accounts::log_login_attempt(&state.pool, log(Some(&user), result)).await?;
        tracing::info!(user = %user.id, locked = now_locked, "login refused: wrong password");
        return Err(if now_locked { locked() } else { wrong() });
    }
    if user.disabled_at.is_some() {
        db::accounts::log_login_attempt(&state.pool, log(Some(&user), "disabled")).await?;
        return Err(disabled());
    }
    db::accounts::record_successful_login(&state.pool, user.id, now).await?;
    state.throttles.account.forget(&account_key(user.id));
    db::accounts::log_login_attempt(&state.pool, log(Some(&user), "success")).await?;
    let session = open_session(&state, &user, now).await?;
    tracing::info!(user = %user.id, role = %user.role, "login");
    Ok(session)
}

/// A line of the login log; the login only when it names an account.
fn attempt<'a>(
    at: DateTime<Utc>,
    user: Option<&'a UserRow>,
    client: &'a str,
    result: &'static str,
) -> LoginAttempt<'a> {
    LoginAttempt {
        at,
        user_id: user.map(|u| u.id),
        login: user.map(|u| u.login.as_str()),
        client,
        result,
    }
}

pub async fn open_session(
    state: &Cantine,
    user: &UserRow,
    now: DateTime<Utc>,
) -> ApiResult<Session> {
    let (token, hash) = new_session_token();
    let expires_at = now + Duration::hours(SESSION_HOURS);
    db::accounts::insert_session(&state.pool, &hash, user.id, now, expires_at).await?;
    Ok(Session {
        token,
        expires_at,
        role: user.role.clone(),
        family_id: user.family_id,
    })
}

/// Ends this session: its token answers 401 from now on.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = crate::web::error::Problem)))]
pub async fn logout(State(state): State<Cantine>, caller: Caller) -> ApiResult<StatusCode> {
    db::accounts::revoke_session(&state.pool, &caller.session_hash, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
