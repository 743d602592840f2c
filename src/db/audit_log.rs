//! What auditors read and check: the log itself (JSON Lines), and the audit chain verified
//! against it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::projections::audit_chain::{chain_hash, GENESIS, NAME as CHAIN};
use crate::projections::projector::{read_checkpoint, read_events};
use crate::projections::Position;

/// One event as the contract's audit route shows it.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct AuditEvent {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: serde_json::Value,
    pub metadata: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
    /// The audit chain's hash of this event, once sealed.
    pub hash: Option<String>,
}

/// Events by position (the order they were appended), after `after`, optionally of one aggregate.
pub async fn events(
    pool: &PgPool,
    after: i64,
    limit: i64,
    aggregate_id: Option<&str>,
) -> sqlx::Result<Vec<AuditEvent>> {
    sqlx::query_as(
        "SELECT e.global_position AS position, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type,
                e.event_version, e.payload, e.metadata, e.recorded_at, c.hash
           FROM events e LEFT JOIN audit_chain c ON c.global_position = e.global_position
          WHERE e.global_position > $1 AND ($3::text IS NULL OR e.aggregate_id = $3)
          ORDER BY e.global_position
          LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .bind(aggregate_id)
    .fetch_all(pool)
    .await
}

#[derive(Debug, Default)]
pub struct ChainReport {
    pub checked: u64,
    /// Events whose content no longer matches their seal.
    pub changed: Vec<i64>,
    /// Seals whose event has disappeared.
    pub removed: Vec<i64>,
    /// Events inside the sealed part of the log that were never sealed.
    pub inserted: Vec<i64>,
}

impl ChainReport {
    pub fn intact(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty() && self.inserted.is_empty()
    }
}

/// Recomputes every seal from the events and the previous seal.
pub async fn verify_chain(pool: &PgPool) -> anyhow::Result<ChainReport> {
    let mut conn = pool.acquire().await?;
    let sealed_until = read_checkpoint(&mut conn, CHAIN).await?;
    let seals: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT chain_index, global_position, hash FROM audit_chain ORDER BY chain_index",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut events = HashMap::new();
    let mut after = Position::START;
    loop {
        let batch = read_events(&mut conn, after, sealed_until, 5000).await?;
        let Some(last) = batch.last() else { break };
        after = last.position;
        for event in batch {
            events.insert(event.position.global_position, event);
        }
    }
    let mut report = ChainReport::default();
    let mut sealed = HashSet::new();
    let mut previous = GENESIS.to_string();
    for (_, position, hash) in &seals {
        sealed.insert(*position);
        match events.get(position) {
            None => report.removed.push(*position),
            Some(event) => {
                report.checked += 1;
                if chain_hash(&previous, event) != *hash {
                    report.changed.push(*position);
                }
            }
        }
        previous = hash.clone();
    }
    let mut inserted: Vec<i64> = events
        .keys()
        .filter(|p| !sealed.contains(p))
        .copied()
        .collect();
    inserted.sort();
    report.inserted = inserted;
    Ok(report)
}

/// What the auditors' page filters the log by; every part optional.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub event_type: Option<String>,
    pub aggregate_id: Option<String>,
    /// The events of this family's reservations, payments and invoices.
    pub family_id: Option<uuid::Uuid>,
}

/// A page of the filtered log by position: after `after`, at most `limit`.
pub async fn filtered_events(
    pool: &PgPool,
    filter: &EventFilter,
    after: i64,
    limit: i64,
) -> sqlx::Result<Vec<AuditEvent>> {
    sqlx::query_as(
        "SELECT e.global_position AS position, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type,
                e.event_version, e.payload, e.metadata, e.recorded_at, c.hash
           FROM events e LEFT JOIN audit_chain c ON c.global_position = e.global_position
          WHERE e.global_position > $1
            AND ($3::timestamptz IS NULL OR e.recorded_at >= $3)
            AND ($4::timestamptz IS NULL OR e.recorded_at < $4)
            AND ($5::text IS NULL OR e.event_type = $5)
            AND ($6::text IS NULL OR e.aggregate_id = $6)
            AND ($7::uuid IS NULL OR e.aggregate_id IN (
                    SELECT id::text FROM reservation_view WHERE family_id = $7
                    UNION ALL SELECT id::text FROM payments WHERE family_id = $7
                    UNION ALL SELECT id::text FROM invoice_view WHERE family_id = $7))
          ORDER BY e.global_position
          LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .bind(filter.from)
    .bind(filter.until)
    .bind(filter.event_type.as_deref())
    .bind(filter.aggregate_id.as_deref())
    .bind(filter.family_id)
    .fetch_all(pool)
    .await
}

/// The event types the log holds, for the page's choice.
pub async fn event_types(pool: &PgPool) -> sqlx::Result<Vec<String>> {
    let types: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT event_type FROM events ORDER BY event_type")
            .fetch_all(pool)
            .await?;
    Ok(types.into_iter().map(|(t,)| t).collect())
}

/// The id of the reservation of this number, as its events are filed.
pub async fn reservation_id_by_number(pool: &PgPool, number: i64) -> sqlx::Result<Option<String>> {
    let found: Option<(String,)> =
        sqlx::query_as("SELECT id::text FROM reservation_view WHERE number = $1")
            .bind(number)
            .fetch_optional(pool)
            .await?;
    Ok(found.map(|(id,)| id))
}
