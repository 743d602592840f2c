//! Town staff accounts: an administrator sees them, lifts a colleague's lock (three wrong
//! passwords) as staff lift a family's, and gives a colleague who lost their password a new one.
//! The command line does the same (`cantine staff unlock --login L [--password P]`) for when no
//! administrator can log in, so that no town is ever left without a way in.

use chrono::{DateTime, Utc};
use rand::distributions::{Distribution, Uniform};
use uuid::Uuid;

use crate::app::accounts::credentials::hash_password;
use crate::app::accounts::password_work;
use crate::app::accounts::sessions::account_key;
use crate::app::{AppError, AppResult, Caller, Cantine, Refusal};
use crate::db;
use crate::db::accounts::UserRow;
use crate::domain::account::Role;

/// A staff account after its unlock.
#[derive(Debug, Clone)]
pub struct StaffAccount {
    pub login: String,
    pub role: Role,
}

/// A staff account as the administrators' list shows it.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub id: Uuid,
    pub login: String,
    pub role: Role,
    pub locked_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Letters and digits that cannot be mistaken for one another when read out or copied by hand.
const TEMPORARY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
const TEMPORARY_LENGTH: usize = 14;

fn staff_of(user: UserRow) -> Option<(UserRow, Role)> {
    let role = Role::parse(&user.role).filter(|r| *r != Role::Family)?;
    Some((user, role))
}

pub async fn list(cantine: &Cantine) -> AppResult<Vec<StaffMember>> {
    Ok(db::accounts::staff_users(&cantine.pool)
        .await?
        .into_iter()
        .filter_map(staff_of)
        .map(|(user, role)| StaffMember {
            id: user.id,
            login: user.login,
            role,
            locked_at: user.locked_at,
            disabled_at: user.disabled_at,
        })
        .collect())
}

pub async fn unlock(cantine: &Cantine, caller: &Caller, login: &str) -> AppResult<StaffAccount> {
    let user = db::accounts::user_by_login(&cantine.pool, login.trim()).await?;
    unlock_user(cantine, caller, user).await
}

pub async fn unlock_by_id(cantine: &Cantine, caller: &Caller, id: Uuid) -> AppResult<StaffAccount> {
    let user = db::accounts::user_by_id(&cantine.pool, id).await?;
    unlock_user(cantine, caller, user).await
}

async fn unlock_user(
    cantine: &Cantine,
    caller: &Caller,
    user: Option<UserRow>,
) -> AppResult<StaffAccount> {
    let Some((user, role)) = user.and_then(staff_of) else {
        return Err(AppError::not_found("staff account"));
    };
    db::accounts::unlock(&cantine.pool, user.id).await?;
    // The delays its wrong passwords earned go with the lock.
    cantine.throttles.account.forget(&account_key(user.id));
    tracing::warn!(by = %caller.user_id, user = %user.id, "staff account unlocked");
    Ok(StaffAccount {
        login: user.login,
        role,
    })
}

/// Gives a colleague a new password, made here and shown once to the administrator, who hands it
/// over; the account is unlocked and its sessions end (whoever had the old password is out).
/// An administrator changes their own password in "Mon compte", with the current one.
pub async fn reset_password(
    cantine: &Cantine,
    caller: &Caller,
    id: Uuid,
) -> AppResult<(StaffAccount, String)> {
    let Some((user, role)) = db::accounts::user_by_id(&cantine.pool, id)
        .await?
        .and_then(staff_of)
    else {
        return Err(AppError::not_found("staff account"));
    };
    if user.id == caller.user_id {
        return Err(AppError::refused(
            Refusal::Rule,
            "own_password",
            "change your own password with your current one (account password route)",
        ));
    }
    let password = temporary_password();
    let typed = password.clone();
    let hash = password_work::run(move || hash_password(&typed)).await??;
    db::accounts::set_password(&cantine.pool, user.id, &hash, cantine.clock.now()).await?;
    cantine.throttles.account.forget(&account_key(user.id));
    tracing::warn!(by = %caller.user_id, user = %user.id, "staff password reset");
    Ok((
        StaffAccount {
            login: user.login,
            role,
        },
        password,
    ))
}

fn temporary_password() -> String {
    let pick = Uniform::from(0..TEMPORARY_ALPHABET.len());
    let mut rng = rand::rngs::OsRng;
    (0..TEMPORARY_LENGTH)
        .map(|_| TEMPORARY_ALPHABET[pick.sample(&mut rng)] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_password_is_long_and_unambiguous() {
        let a = temporary_password();
        assert_eq!(a.chars().count(), TEMPORARY_LENGTH);
        assert!(a.bytes().all(|b| TEMPORARY_ALPHABET.contains(&b)));
        assert!(!a.contains(['0', 'O', 'o', '1', 'l', 'I', 'i']));
        assert_ne!(a, temporary_password());
    }
}
