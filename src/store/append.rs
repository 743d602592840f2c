//! The one way an event enters the log, for every aggregate (Reservation, Payment, Invoice): the
//! same seven columns, bound in the same order ($1 to $7) in every statement that appends, and
//! the same metadata (actor, role, request id) written from a [`CommandMeta`].
//!
//! An append usually goes with other writes (places taken, a payment's row, an invoice's
//! number) that must commit with it: the statements embed [`APPENDED`] as a CTE, or run
//! [`append`] in the caller's transaction, rather than appending on their own.

use std::borrow::Cow;

use cqrs_es::persist::SerializedEvent;
use serde_json::Value;
use sqlx::postgres::PgArguments;
use sqlx::query::{Query, QueryScalar};
use sqlx::{PgConnection, Postgres};

use super::commands::CommandMeta;

/// The event's seven values in the order of [`INSERT_EVENT`]: written once for both kinds of
/// statement (sqlx's `Query` and `QueryScalar` share `bind` but no trait).
macro_rules! bind_event {
    ($query:expr, $event:expr) => {
        $query
            .bind($event.aggregate_type)
            .bind($event.aggregate_id.as_ref())
            .bind($event.sequence)
            .bind($event.event_type)
            .bind($event.event_version)
            .bind($event.payload.as_ref())
            .bind($event.metadata.as_ref())
    };
}

/// The event's columns, each append's parameters $1 to $7.
pub const INSERT_EVENT: &str = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)";

/// The event as a CTE of a larger statement: `WITH appended AS (...)`.
pub const APPENDED: &str = "appended AS (
    INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    RETURNING 1)";

/// One event about to be stored.
pub struct NewEvent<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: Cow<'a, str>,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    /// Borrowed when it can be: a whole-year request is ~140 days of JSON, not worth a copy.
    pub payload: Cow<'a, Value>,
    pub metadata: Cow<'a, Value>,
}

impl<'a> NewEvent<'a> {
    pub fn new(
        aggregate_type: &'a str,
        aggregate_id: impl ToString,
        sequence: i64,
        event_type: &'a str,
        event_version: &'a str,
        payload: Value,
        meta: &CommandMeta,
    ) -> Self {
        Self {
            aggregate_type,
            aggregate_id: Cow::Owned(aggregate_id.to_string()),
            sequence,
            event_type,
            event_version,
            payload: Cow::Owned(payload),
            metadata: Cow::Owned(meta.to_json()),
        }
    }

    /// A Reservation event as cqrs-es serialised it, its metadata from the same `CommandMeta`.
    pub fn serialized(event: &'a SerializedEvent) -> Self {
        Self {
            aggregate_type: &event.aggregate_type,
            aggregate_id: Cow::Borrowed(&event.aggregate_id),
            sequence: event.sequence as i64,
            event_type: &event.event_type,
            event_version: &event.event_version,
            payload: Cow::Borrowed(&event.payload),
            metadata: Cow::Borrowed(&event.metadata),
        }
    }

    /// Binds the event as $1 to $7 of a statement answering one value.
    pub fn bind_scalar<'q, O>(
        &'q self,
        query: QueryScalar<'q, Postgres, O, PgArguments>,
    ) -> QueryScalar<'q, Postgres, O, PgArguments> {
        bind_event!(query, self)
    }

    /// Binds the event as $1 to $7 of a statement.
    pub fn bind<'q>(
        &'q self,
        query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        bind_event!(query, self)
    }
}

/// Appends one event alone, in the caller's transaction.
pub async fn append(conn: &mut PgConnection, event: &NewEvent<'_>) -> sqlx::Result<()> {
    event
        .bind(sqlx::query(&format!(
            "{INSERT_EVENT} VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )))
        .execute(conn)
        .await?;
    Ok(())
}
