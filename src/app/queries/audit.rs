//! What auditors read: the event log by position (optionally one aggregate's), and the login
//! log, newest first.

use crate::app::{AppError, AppResult, Cantine};
use crate::db;
use crate::db::accounts::LoginAttemptRow;
use crate::db::audit_log::{AuditEvent, EventFilter};
use crate::domain::period::paris_to_utc;

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

/// The auditors' page of the log: one page of events matching the filter, after a position.
pub const PAGE_EVENTS: i64 = 50;

/// The filter as typed on the page: Paris days, a type, a reservation number or id, a family.
#[derive(Debug, Default, Clone)]
pub struct LogFilter {
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub event_type: Option<String>,
    pub aggregate_id: Option<String>,
    pub family_id: Option<uuid::Uuid>,
}

pub struct LogPage {
    pub events: Vec<AuditEvent>,
    /// The position to read the next page after, when there is one.
    pub next_after: Option<i64>,
    pub event_types: Vec<String>,
}

pub async fn log_page(cantine: &Cantine, filter: &LogFilter, after: i64) -> AppResult<LogPage> {
    let start_of = |day: chrono::NaiveDate| paris_to_utc(day.and_time(chrono::NaiveTime::MIN));
    let db_filter = EventFilter {
        from: filter.from.map(start_of),
        until: filter.to.and_then(|d| d.succ_opt()).map(start_of),
        event_type: filter.event_type.clone(),
        aggregate_id: filter.aggregate_id.clone(),
        family_id: filter.family_id,
    };
    // One more than a page says whether there is a next one.
    let mut events =
        db::audit_log::filtered_events(&cantine.pool, &db_filter, after.max(0), PAGE_EVENTS + 1)
            .await?;
    let next_after = if events.len() as i64 > PAGE_EVENTS {
        events.truncate(PAGE_EVENTS as usize);
        events.last().map(|e| e.position)
    } else {
        None
    };
    Ok(LogPage {
        events,
        next_after,
        event_types: db::audit_log::event_types(&cantine.pool).await?,
    })
}

/// A reservation typed as parents read its number (`14`, `00014`): the id its events are filed
/// under. Anything else is taken as an aggregate id as it is.
pub async fn reservation_aggregate(cantine: &Cantine, typed: &str) -> AppResult<Option<String>> {
    match typed.trim().parse::<i64>() {
        Ok(number) => Ok(db::audit_log::reservation_id_by_number(&cantine.pool, number).await?),
        Err(_) => Ok(None),
    }
}
