//! The login log that admins and auditors read: who, when, from where, the result; never a
//! password.

use crate::app::{AppError, AppResult, Cantine};
use crate::db;

pub type LoginAttempt = db::accounts::LoginAttemptRow;

/// The attempts older than `before` (an attempt's id; the newest when absent), newest first,
/// `limit` (1 to 500, default 100) at most.
pub async fn page(
    cantine: &Cantine,
    before: Option<i64>,
    limit: Option<i64>,
) -> AppResult<Vec<LoginAttempt>> {
    let limit = limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::bad_input(
            "invalid_parameter",
            "limit is between 1 and 500",
        ));
    }
    Ok(db::accounts::login_attempts(&cantine.pool, before, limit).await?)
}
