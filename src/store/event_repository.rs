//! The event store's storage: postgres-es for reading, and an append that takes and gives back
//! places in the same statement as the event it stores (`append_alone`).
//!
//! That is what makes capacity and the one-meal-per-child rule hold under any concurrency: a
//! place is taken only if the reservation's event is stored, and given back only with the event
//! that releases it. When a place turns out to be gone at append time (another request took the
//! last one after this one decided), the append fails as an optimistic-lock conflict, and the
//! command is decided again with fresh availability.

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlx::PgPool;

pub struct CantineEventRepository {
    reads: PostgresEventRepository,
    pool: PgPool,
}

impl CantineEventRepository {
    pub fn new(pool: PgPool) -> Self {
        Self {
            reads: PostgresEventRepository::new(pool.clone()),
            pool,
        }
    }
}

/// A conflict the command should be decided again for.
fn conflict() -> PersistenceError {
    PersistenceError::OptimisticLockError
}

pub(super) fn database(e: sqlx::Error) -> PersistenceError {
    if let sqlx::Error::Database(db) = &e {
        // Unique keys (the event's sequence, a child's meal) and deadlocks between appends
        // touching the same places: decide again.
        if matches!(
            db.code().as_deref(),
            Some("23505") | Some("40P01") | Some("40001")
        ) {
            return conflict();
        }
    }
    PersistenceError::UnknownError(Box::new(e))
}

impl PersistedEventRepository for CantineEventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads.get_events::<A>(aggregate_id).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.reads
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        self.reads.get_snapshot::<A>(aggregate_id).await
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if snapshot_update.is_some() {
            return Err(PersistenceError::UnknownError(
                "snapshots are not used: cqrs-es 0.5.0 applies new events twice to them".into(),
            ));
        }
        match events {
            [] => Ok(()),
            // Every reservation command decides one event (`Reservation::handle`).
            [event] if event.aggregate_type == "Reservation" => {
                super::append_alone::append_alone(&self.pool, event).await
            }
            _ => Err(PersistenceError::UnknownError(
                "a reservation command appends exactly one event".into(),
            )),
        }
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_events::<A>(aggregate_id).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        self.reads.stream_all_events::<A>().await
    }
}
