//! What auditors read: the event log by position (optionally one aggregate's), and the login
//! log, newest first.

use crate::app::{AppError, AppResult, Cantine};
use crate::db;
use crate::db::accounts::LoginAttemptRow;
use crate::db::audit_log::AuditEvent;

/// At most this many events in one read.
const MAX_EVENTS: i64 = 10_000;
const DEFAULT_EVENTS: i64 = 1000;

/// The events after `after` (default: from the start), at most `limit` (default 1000), of one
/// aggregate if given, in the order they were appended.
pub async fn events(
    cantine: &Cantine,
    after: Option<i64>,
    limit: Option<i64>,
    aggregate_id: Option<&str>,
) -> AppResult<Vec<AuditEvent>> {
    let limit = limit.unwrap_or(DEFAULT_EVENTS);
    if !(1..=MAX_EVENTS).contains(&limit) || after.is_some_and(|a| a < 0) {
        return Err(AppError::bad_input(
            "invalid_parameter",
            "limit is 1 to 10000; after is 0 or more",
        ));
    }
    Ok(db::audit_log::events(&cantine.pool, after.unwrap_or(0), limit, aggregate_id).await?)
}

const MAX_LOGINS: i64 = 500;
const DEFAULT_LOGINS: i64 = 100;

/// The login attempts before the attempt `before` (default: the latest), at most `limit`
/// (default 100), newest first: who, when, from where, the result; never a password.
pub async fn login_log(
    cantine: &Cantine,
    before: Option<i64>,
    limit: Option<i64>,
) -> AppResult<Vec<LoginAttemptRow>> {
    let limit = limit.unwrap_or(DEFAULT_LOGINS);
    if !(1..=MAX_LOGINS).contains(&limit) {
        return Err(AppError::bad_input(
            "invalid_parameter",
            "limit is between 1 and 500",
        ));
    }
    Ok(db::accounts::login_attempts(&cantine.pool, before, limit).await?)
}
