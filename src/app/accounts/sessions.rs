//! Signing in and out, and finding who a session belongs to. Three wrong passwords in a row lock
//! the account (423, second guide) until the password link or staff lift it; wrong passwords
//! also earn a growing delay per account and per client address (429 with `Retry-After`, see
//! `throttle.rs`). Every attempt is logged, never its password. The API's login and the login
//! page both go through [`sign_in`], and every guard (bearer token or cookie) through
//! [`caller_of_session`].

use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::credentials::{hash_password, new_session_token, token_hash, verify_password};
use super::throttle::Refused;
use crate::app::{AppError, AppResult, Caller, Cantine, Refusal};
use crate::db;
use crate::db::accounts::{LoginAttempt, UserRow};
use crate::domain::account::{Role, LOCK_AFTER_FAILURES, SESSION_HOURS};

/// Longer inputs are refused without hashing them: argon2 on megabytes is a denial of service.
pub const MAX_LOGIN_CHARS: usize = 254;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A session just opened: the token is shown once, only its hash is stored.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub role: Role,
    pub family_id: Option<Uuid>,
}

pub fn locked() -> AppError {
    AppError::refused(
        Refusal::Locked,
        "account_locked",
        "trois mots de passe erronés : le compte est verrouillé. Générez un nouveau mot de passe \
         (lien par e-mail) ou demandez à votre restaurant de le déverrouiller",
    )
}

fn wrong() -> AppError {
    AppError::refused(
        Refusal::Unauthenticated,
        "invalid_credentials",
        "wrong login or password",
    )
}

fn disabled() -> AppError {
    AppError::refused(
        Refusal::Forbidden,
        "account_disabled",
        "this account is disabled; ask your restaurant",
    )
}

/// No session (or its account is gone): the same words as the guard's 401.
pub fn unauthenticated() -> AppError {
    AppError::refused(
        Refusal::Unauthenticated,
        "unauthorized",
        "log in first (Authorization: Bearer <token>)",
    )
}

/// 429: attempts come faster than the throttles allow.
pub fn throttled(refused: Refused) -> AppError {
    let seconds = refused.retry_after_seconds();
    AppError::refused(
        Refusal::TooManyAttempts {
            retry_after_seconds: seconds,
        },
        "too_many_attempts",
        format!("too many attempts: try again in {seconds} s"),
    )
}

/// A hash to check unknown logins against, so that they take as long as known ones.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("not a password of anyone").expect("argon2 hashes"))
}

/// Checks a password on the argon2 pool; without a hash, against the decoy (and answers false).
pub async fn check_password(password: &str, hash: Option<&str>) -> AppResult<bool> {
    let password = password.to_string();
    let hash = hash.map(str::to_string);
    Ok(super::password_work::run(move || match hash {
        Some(hash) => verify_password(&password, &hash),
        None => {
            verify_password(&password, decoy_hash());
            false
        }
    })
    .await?)
}

/// The throttle key of an account (also forgotten when staff unlock it).
pub fn account_key(user_id: Uuid) -> String {
    format!("account:{user_id}")
}

/// The throttle key of a login that names no account: counted as an account would be, so that
/// the answers (401, then 429, then 423) are the same whether the login exists or not.
fn unknown_login_key(login: &str) -> String {
    format!("login:{}", login.to_lowercase())
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
) -> AppResult<bool> {
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
    login: &str,
    client: &str,
    now: DateTime<Utc>,
) -> Result<(), Refused> {
    state.throttles.address.check(&address_key(client), now)?;
    let key = match user {
        Some(user) => account_key(user),
        None => unknown_login_key(login),
    };
    state.throttles.account.check(&key, now)
}

/// Checks a login and password with every rule of the login (lock, delays, log) and opens a
/// session. `client` is the caller's address, for the per-address delay and the log.
pub async fn sign_in(
    state: &Cantine,
    client: &str,
    login: &str,
    password: &str,
) -> AppResult<OpenedSession> {
    let now = state.clock.now();
    let typed = login.trim();
    let too_long =
        typed.chars().count() > MAX_LOGIN_CHARS || password.chars().count() > MAX_PASSWORD_CHARS;
    let user = if too_long {
        None
    } else {
        db::accounts::user_by_login(&state.pool, typed).await?
    };
    let log = |user, result| attempt(now, user, client, result);
    if let Err(refused) = check_throttles(state, user.as_ref().map(|u| u.id), typed, client, now) {
        db::accounts::log_login_attempt(&state.pool, log(user.as_ref(), "throttled")).await?;
        return Err(throttled(refused));
    }
    let Some(user) = user else {
        // Answered exactly as a known account would be: the same work, the same delays, and a
        // "lock" after as many failures, so that no answer tells whether the login exists.
        let key = unknown_login_key(typed);
        let already = state.throttles.account.failures(&key, now);
        if !too_long && already < LOCK_AFTER_FAILURES as u32 {
            check_password(password, None).await?;
        }
        state
            .throttles
            .address
            .record_failure(&address_key(client), now);
        if already < LOCK_AFTER_FAILURES as u32 {
            state.throttles.account.record_failure(&key, now);
        }
        db::accounts::log_login_attempt(&state.pool, log(None, "unknown_login")).await?;
        let locked_now = already + 1 >= LOCK_AFTER_FAILURES as u32;
        return Err(if locked_now { locked() } else { wrong() });
    };
    if user.locked_at.is_some() {
        // Counted for the address, so that locked accounts are no free target.
        state
            .throttles
            .address
            .record_failure(&address_key(client), now);
        db::accounts::log_login_attempt(&state.pool, log(Some(&user), "locked")).await?;
        return Err(locked());
    }
    let matches = check_password(password, user.password_hash.as_deref()).await?;
    if user.password_hash.is_none() {
        state
            .throttles
            .address
            .record_failure(&address_key(client), now);
        db::accounts::log_login_attempt(&state.pool, log(Some(&user), "no_password")).await?;
        return Err(wrong());
    }
    if !matches {
        let now_locked = count_wrong_password(state, &user, client, now).await?;
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
    let session = open_session(state, &user, now).await?;
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

fn role_of(role: &str) -> AppResult<Role> {
    Role::parse(role).ok_or_else(|| AppError::internal(format!("unknown role {role}")))
}

/// A new session for this user, from `now` for [`SESSION_HOURS`].
pub async fn open_session(
    state: &Cantine,
    user: &UserRow,
    now: DateTime<Utc>,
) -> AppResult<OpenedSession> {
    let role = role_of(&user.role)?;
    let (token, hash) = new_session_token();
    let expires_at = now + Duration::hours(SESSION_HOURS);
    db::accounts::insert_session(&state.pool, &hash, user.id, now, expires_at).await?;
    Ok(OpenedSession {
        token,
        expires_at,
        role,
        family_id: user.family_id,
    })
}

/// Ends the caller's session: its token is refused from now on.
pub async fn sign_out(state: &Cantine, caller: &Caller) -> AppResult<()> {
    db::accounts::revoke_session(&state.pool, &caller.session_hash, state.clock.now()).await?;
    Ok(())
}

/// The caller of a session token, however it came (bearer header or the pages' cookie);
/// `None` for an unknown, ended or expired session. `request_id` goes into the caller's events.
pub async fn caller_of_session(
    state: &Cantine,
    token: &str,
    request_id: String,
) -> AppResult<Option<Caller>> {
    let session_hash = token_hash(token);
    let Some(user) =
        db::accounts::session_user(&state.pool, &session_hash, state.clock.now()).await?
    else {
        return Ok(None);
    };
    Ok(Some(Caller {
        user_id: user.user_id,
        role: role_of(&user.role)?,
        family_id: user.family_id,
        request_id,
        session_hash,
    }))
}

/// The login of the caller's account (the pages show it).
pub async fn own_login(state: &Cantine, caller: &Caller) -> AppResult<String> {
    Ok(db::accounts::user_by_id(&state.pool, caller.user_id)
        .await?
        .ok_or_else(unauthenticated)?
        .login)
}
