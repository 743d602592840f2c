//! Town staff accounts: an administrator lifts a colleague's lock (three wrong passwords), as
//! staff lift a family's. The command line does the same (`cantine staff unlock`) for when no
//! administrator can log in.

use crate::app::accounts::sessions::account_key;
use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::domain::account::Role;

/// A staff account after its unlock.
#[derive(Debug, Clone)]
pub struct StaffAccount {
    pub login: String,
    pub role: Role,
}

pub async fn unlock(cantine: &Cantine, caller: &Caller, login: &str) -> AppResult<StaffAccount> {
    let user = db::accounts::user_by_login(&cantine.pool, login.trim())
        .await?
        .and_then(|user| {
            let role = Role::parse(&user.role).filter(|r| *r != Role::Family)?;
            Some((user, role))
        });
    let Some((user, role)) = user else {
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
