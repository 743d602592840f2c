//! Town staff manage family accounts (first guide: "ask your restaurant for your login"): see,
//! edit, disable and enable, unlock, send the password e-mail.

use uuid::Uuid;

use super::log_change;
use crate::app::accounts::own_account::login_taken;
use crate::app::accounts::password_link::send_password_link;
use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::db::accounts::UserRow;
use crate::domain::account::is_email;

/// A family with its account: login, password chosen or not, locked or disabled since when,
/// last login, anonymised, quotient familial.
pub type FamilyAccount = db::accounts::FamilyAccountRow;

/// A family's login is its e-mail address.
pub(super) fn valid_family_login(login: &str) -> AppResult<()> {
    // `is_email` also bounds the length and refuses spaces, as every login must.
    if !is_email(login) {
        return Err(AppError::rule(
            "invalid_login",
            "a family's login is its e-mail address",
        ));
    }
    Ok(())
}

pub async fn show(cantine: &Cantine, family_id: Uuid) -> AppResult<FamilyAccount> {
    db::accounts::family_account(&cantine.pool, cantine.organisation.id, family_id)
        .await?
        .ok_or_else(|| AppError::not_found("family"))
}

async fn family_user(cantine: &Cantine, family_id: Uuid) -> AppResult<UserRow> {
    db::accounts::family_user(&cantine.pool, cantine.organisation.id, family_id)
        .await?
        .ok_or_else(|| AppError::not_found("family"))
}

/// Edits a family's name or login (its e-mail), as the family asked at the counter; `None`
/// leaves it as it is.
pub async fn edit(
    cantine: &Cantine,
    caller: &Caller,
    family_id: Uuid,
    name: Option<&str>,
    login: Option<&str>,
) -> AppResult<FamilyAccount> {
    let user = family_user(cantine, family_id).await?;
    let name = name.map(str::trim);
    if name.is_some_and(|n| n.is_empty() || n.chars().count() > 200) {
        return Err(AppError::rule(
            "empty_field",
            "`name` must have 1 to 200 characters",
        ));
    }
    let login = login.map(str::trim);
    if let Some(login) = login {
        valid_family_login(login)?;
    }
    // Checked before anything changes: a refused edit changes nothing.
    if let Some(login) = login {
        if let Some(other) = db::accounts::user_by_login(&cantine.pool, login).await? {
            if other.id != user.id {
                return Err(login_taken());
            }
        }
        if !db::accounts::change_login(&cantine.pool, user.id, login).await? {
            return Err(login_taken());
        }
    }
    if let Some(name) = name {
        db::accounts::rename_family(&cantine.pool, family_id, name).await?;
    }
    log_change(caller, "family edited", family_id);
    show(cantine, family_id).await
}

/// Disables the account: its sessions end and its password no longer opens it.
pub async fn disable(
    cantine: &Cantine,
    caller: &Caller,
    family_id: Uuid,
) -> AppResult<FamilyAccount> {
    let user = family_user(cantine, family_id).await?;
    db::accounts::set_disabled(&cantine.pool, user.id, true, cantine.clock.now()).await?;
    tracing::info!(user = %user.id, by = %caller.user_id, "account disabled");
    show(cantine, family_id).await
}

pub async fn enable(
    cantine: &Cantine,
    caller: &Caller,
    family_id: Uuid,
) -> AppResult<FamilyAccount> {
    let user = family_user(cantine, family_id).await?;
    db::accounts::set_disabled(&cantine.pool, user.id, false, cantine.clock.now()).await?;
    tracing::info!(user = %user.id, by = %caller.user_id, "account enabled");
    show(cantine, family_id).await
}

/// Lifts the lock of three wrong passwords (the family can also do it with the password link).
pub async fn unlock(
    cantine: &Cantine,
    caller: &Caller,
    family_id: Uuid,
) -> AppResult<FamilyAccount> {
    let user = family_user(cantine, family_id).await?;
    db::accounts::unlock(&cantine.pool, user.id).await?;
    // The login delays count per account under this key (the login's throttle).
    cantine
        .throttles
        .account
        .forget(&format!("account:{}", user.id));
    tracing::info!(user = %user.id, by = %caller.user_id, "account unlocked by staff");
    show(cantine, family_id).await
}

/// Sends the family the password e-mail (a new account, or a family at the counter); refused
/// `account_disabled` while the account is disabled.
pub async fn send_password_email(
    cantine: &Cantine,
    caller: &Caller,
    family_id: Uuid,
) -> AppResult<()> {
    let user = family_user(cantine, family_id).await?;
    if user.disabled_at.is_some() {
        return Err(AppError::conflict(
            "account_disabled",
            "enable the account first",
        ));
    }
    send_password_link(cantine, &user, cantine.clock.now()).await?;
    tracing::info!(user = %user.id, by = %caller.user_id, "password e-mail asked by staff");
    Ok(())
}
