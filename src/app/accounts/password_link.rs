//! "Générer votre mot de passe" (second guide): a family that has no password yet, or forgot
//! it, asks for a link by e-mail. The answer is the same whether the e-mail is known or not; the
//! link is single-use, expires after an hour, and choosing a password through it also lifts the
//! lock of three wrong passwords and ends every session. Opening the link's page spends nothing
//! (mail scanners open links), only setting the password does.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::credentials::{hash_password, new_session_token, token_hash};
use super::sessions::{account_key, throttled, MAX_LOGIN_CHARS, MAX_PASSWORD_CHARS};
use crate::app::mail::{password_message, PASSWORD_SUBJECT};
use crate::app::{AppError, AppResult, Cantine};
use crate::db;
use crate::db::accounts::UserRow;
use crate::domain::account::Role;

/// How long a password link works.
pub const LINK_LIFETIME_MINUTES: i64 = 60;
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Tokens longer than this are no link of ours: refused before any lookup.
const MAX_TOKEN_CHARS: usize = 128;

/// What the asker reads, whether the address is known or not.
pub const EMAIL_ANSWER: &str = "Si un compte correspond à cette adresse, un e-mail vient de lui être envoyé avec un lien pour choisir votre mot de passe (valable une heure).";

/// Asks for the password e-mail for the login as typed. Succeeds alike whether the address is
/// known or not; refused only when malformed or too frequent (per address and per login).
pub async fn request_email(state: &Cantine, client: &str, login: &str) -> AppResult<()> {
    let typed = login.trim();
    if typed.is_empty() || typed.chars().count() > MAX_LOGIN_CHARS {
        return Err(AppError::rule(
            "invalid_login",
            "give the e-mail address of your account",
        ));
    }
    let now = state.clock.now();
    // Limited per login as typed, known or not: the limit itself tells nothing.
    state
        .throttles
        .mail_per_address
        .hit(client, now)
        .map_err(throttled)?;
    state
        .throttles
        .mail_per_login
        .hit(&typed.to_lowercase(), now)
        .map_err(throttled)?;
    if let Some(user) = db::accounts::user_by_login(&state.pool, typed).await? {
        if user.role == Role::Family.as_str() && user.disabled_at.is_none() {
            send_password_link(state, &user, now).await?;
        } else {
            tracing::info!(user = %user.id, "password e-mail not sent: not an active family account");
        }
    }
    Ok(())
}

/// Stores a new link for this account and sends it, in the background: the answer does not
/// wait for the mail server, and takes as long for an unknown address.
pub async fn send_password_link(
    state: &Cantine,
    user: &UserRow,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (token, hash) = new_session_token();
    let expires_at = now + Duration::minutes(LINK_LIFETIME_MINUTES);
    db::accounts::insert_password_link(&state.pool, &hash, user.id, now, expires_at).await?;
    let link = format!("{}/mot-de-passe?jeton={token}", state.public_url);
    let body = password_message(&state.organisation.name, &user.login, &link, expires_at);
    let mailer = state.mailer.clone();
    let to = user.login.clone();
    let user_id = user.id;
    tokio::spawn(async move {
        match mailer.send(&to, PASSWORD_SUBJECT, body).await {
            Ok(()) => tracing::info!(user = %user_id, "password e-mail sent"),
            Err(e) => tracing::error!(user = %user_id, error = %e, "password e-mail not sent"),
        }
    });
    Ok(())
}

fn invalid_link() -> AppError {
    AppError::rule(
        "invalid_link",
        "ce lien n'est plus valable (déjà utilisé ou expiré) : demandez-en un autre",
    )
}

/// The length rule of every new password.
pub fn check_new_password(password: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AppError::rule(
            "weak_password",
            "a password needs at least 8 characters",
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AppError::rule(
            "weak_password",
            "a password has at most 256 characters",
        ));
    }
    Ok(())
}

/// The stored hash of a new password, computed on the argon2 pool.
pub async fn hash_new_password(password: &str) -> AppResult<String> {
    let password = password.to_string();
    Ok(super::password_work::run(move || hash_password(&password)).await??)
}

/// Whether the link of this token can still set a password (the page opened by the link).
pub async fn link_usable(state: &Cantine, token: &str) -> AppResult<bool> {
    Ok(token.len() <= MAX_TOKEN_CHARS
        && db::accounts::password_link_usable(&state.pool, &token_hash(token), state.clock.now())
            .await?)
}

/// Spends the link and sets the password: unlocks the account, ends its sessions and its other
/// links. Answers whose password it was.
pub async fn set_password_with_link(
    state: &Cantine,
    token: &str,
    password: &str,
) -> AppResult<Uuid> {
    check_new_password(password)?;
    let now = state.clock.now();
    if token.len() > MAX_TOKEN_CHARS {
        return Err(invalid_link());
    }
    // Hashed before the link is spent, so that a failure here leaves the link usable.
    let hash = hash_new_password(password).await?;
    let user_id = db::accounts::use_password_link(&state.pool, &token_hash(token), now)
        .await?
        .ok_or_else(invalid_link)?;
    db::accounts::set_password(&state.pool, user_id, &hash, now).await?;
    state.throttles.account.forget(&account_key(user_id));
    tracing::info!(user = %user_id, "password set through the e-mailed link");
    Ok(user_id)
}
