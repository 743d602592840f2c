//! The waiting lists' events: a day's list is loaded from its events and a decision appended at
//! the next sequence; another append to the same list first makes this one lose (the events'
//! primary key), and the caller decides again on the list as it now is.

use sqlx::PgPool;

use super::append::{append, NewEvent};
use super::commands::CommandMeta;
use crate::domain::waitlist::{WaitingList, WaitingListEvent, AGGREGATE, EVENT_VERSION};

/// The list as its events say now (an empty list when it has none).
pub async fn load(pool: &PgPool, list_id: &str) -> anyhow::Result<WaitingList> {
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(
        "SELECT sequence, payload FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2
          ORDER BY sequence",
    )
    .bind(AGGREGATE)
    .bind(list_id)
    .fetch_all(pool)
    .await?;
    let mut list = WaitingList::default();
    for (sequence, payload) in rows {
        let event: WaitingListEvent = serde_json::from_value(payload)?;
        list.apply(sequence, &event);
    }
    Ok(list)
}

/// Appended after the list's `version`th event: `Ok(false)` when another append got there
/// first (nothing written).
pub async fn append_after(
    pool: &PgPool,
    list_id: &str,
    version: i64,
    event: &WaitingListEvent,
    meta: &CommandMeta,
) -> anyhow::Result<bool> {
    let new = NewEvent::new(
        AGGREGATE,
        list_id,
        version + 1,
        event.event_type(),
        EVENT_VERSION,
        serde_json::to_value(event)?,
        meta,
    );
    let mut conn = pool.acquire().await?;
    match append(&mut conn, &new).await {
        Ok(()) => Ok(true),
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23505") => Ok(false),
        Err(e) => Err(e.into()),
    }
}
