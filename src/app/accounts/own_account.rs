//! A logged-in user's own account: changing the password or the login (a family's e-mail)
//! needs the current password, so that a session left open is not enough to take the account.
//! A wrong current password counts like a wrong login password (lock, delays). The API and the
//! portal's "Mon compte" page both go through here.

use super::password_link::{check_new_password, hash_new_password};
use super::sessions::{
    check_password, check_throttles, count_wrong_password, locked, open_session, throttled,
    unauthenticated, OpenedSession, MAX_PASSWORD_CHARS,
};
use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::db::accounts::{LoginAttempt, UserRow};
use crate::domain::account::{is_email, Role};
use crate::domain::family_contact::FamilyContact;

/// The caller's account, once its current password is proven.
async fn prove_current_password(
    state: &Cantine,
    caller: &Caller,
    client: &str,
    current_password: &str,
) -> AppResult<UserRow> {
    let now = state.clock.now();
    let user = db::accounts::user_by_id(&state.pool, caller.user_id)
        .await?
        .ok_or_else(unauthenticated)?;
    check_throttles(state, Some(user.id), &user.login, client, now).map_err(throttled)?;
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
        AppError::rule("wrong_password", "the current password is wrong")
    })
}

/// Changes the caller's password. Every session of the account ends, this one too; the answer
/// is a new session for this device.
pub async fn change_password(
    state: &Cantine,
    caller: &Caller,
    client: &str,
    current_password: &str,
    new_password: &str,
) -> AppResult<OpenedSession> {
    check_new_password(new_password)?;
    let user = prove_current_password(state, caller, client, current_password).await?;
    let hash = hash_new_password(new_password).await?;
    let now = state.clock.now();
    db::accounts::set_password(&state.pool, user.id, &hash, now).await?;
    tracing::info!(user = %user.id, "password changed; every session ended");
    open_session(state, &user, now).await
}

/// Checks a login for an account of this role: families log in with their e-mail.
pub fn valid_login(role: Role, login: &str) -> AppResult<()> {
    if role == Role::Family && !is_email(login) {
        return Err(AppError::rule(
            "invalid_login",
            "a family's login is its e-mail address",
        ));
    }
    if login.is_empty() || login.len() > 254 || login.chars().any(char::is_whitespace) {
        return Err(AppError::rule(
            "invalid_login",
            "a login has 1 to 254 characters, without spaces",
        ));
    }
    Ok(())
}

pub fn login_taken() -> AppError {
    AppError::conflict("login_taken", "this login is already used")
}

/// Changes the caller's login (a family's e-mail address); answers the login as stored.
pub async fn change_login(
    state: &Cantine,
    caller: &Caller,
    client: &str,
    current_password: &str,
    new_login: &str,
) -> AppResult<String> {
    let new_login = new_login.trim();
    valid_login(caller.role, new_login)?;
    let user = prove_current_password(state, caller, client, current_password).await?;
    if !db::accounts::change_login(&state.pool, user.id, new_login).await? {
        return Err(login_taken());
    }
    tracing::info!(user = %user.id, "login changed");
    Ok(new_login.to_string())
}

/// The caller's family's contact details.
pub async fn family_contact(state: &Cantine, caller: &Caller) -> AppResult<FamilyContact> {
    let family_id = caller.family()?;
    db::families::contact(&state.pool, family_id)
        .await?
        .ok_or_else(|| AppError::not_found("family"))
}

/// What the family typed in "Modifier les informations de la famille".
pub struct ContactInput<'a> {
    pub address: &'a str,
    pub phone: &'a str,
    pub mobile_phone: &'a str,
    pub second_guardian_name: &'a str,
    pub second_guardian_phone: &'a str,
    pub second_guardian_email: &'a str,
}

/// Replaces the caller's family's contact details; a field the town could not use is refused
/// with its own code (`invalid_phone`, …) and nothing is changed.
pub async fn set_family_contact(
    state: &Cantine,
    caller: &Caller,
    input: ContactInput<'_>,
) -> AppResult<FamilyContact> {
    let family_id = caller.family()?;
    let contact = FamilyContact::from_input(
        input.address,
        input.phone,
        input.mobile_phone,
        input.second_guardian_name,
        input.second_guardian_phone,
        input.second_guardian_email,
    )
    .map_err(|field| AppError::rule(field.code(), field.french()))?;
    if !db::families::set_contact(&state.pool, family_id, &contact).await? {
        return Err(AppError::not_found("family"));
    }
    tracing::info!(family = %family_id, "family contact details changed");
    Ok(contact)
}
