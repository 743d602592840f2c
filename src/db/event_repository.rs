//! The event store's storage: postgres-es for reading, and an append that takes and gives back
//! places in the same transaction as the events it stores.
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
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::reservation::ReservationEvent;

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
        if let [event] = events {
            if event.aggregate_type == "Reservation" {
                return super::append_alone::append_alone(&self.pool, event).await;
            }
        }
        let mut tx = self.pool.begin().await.map_err(database)?;
        append(&mut tx, events).await?;
        for event in events {
            apply_places(&mut tx, event).await?;
        }
        tx.commit().await.map_err(database)?;
        Ok(())
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

/// The columns postgres-es writes; the others keep their defaults.
async fn append(tx: &mut PgConnection, events: &[SerializedEvent]) -> Result<(), PersistenceError> {
    let mut types = Vec::with_capacity(events.len());
    let mut ids = Vec::with_capacity(events.len());
    let mut sequences = Vec::with_capacity(events.len());
    let mut event_types = Vec::with_capacity(events.len());
    let mut versions = Vec::with_capacity(events.len());
    let mut payloads = Vec::with_capacity(events.len());
    let mut metadata = Vec::with_capacity(events.len());
    for event in events {
        types.push(event.aggregate_type.clone());
        ids.push(event.aggregate_id.clone());
        sequences.push(event.sequence as i64);
        event_types.push(event.event_type.clone());
        versions.push(event.event_version.clone());
        payloads.push(event.payload.clone());
        metadata.push(event.metadata.clone());
    }
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[])",
    )
    .bind(&types)
    .bind(&ids)
    .bind(&sequences)
    .bind(&event_types)
    .bind(&versions)
    .bind(&payloads)
    .bind(&metadata)
    .execute(tx)
    .await
    .map_err(database)?;
    Ok(())
}

/// Takes or gives back the places an event stands for.
async fn apply_places(
    tx: &mut PgConnection,
    event: &SerializedEvent,
) -> Result<(), PersistenceError> {
    if event.aggregate_type != "Reservation" {
        return Ok(());
    }
    let reservation_id: Uuid = event
        .aggregate_id
        .parse()
        .map_err(|e: uuid::Error| PersistenceError::UnknownError(Box::new(e)))?;
    let decoded: ReservationEvent = serde_json::from_value(event.payload.clone())?;
    match decoded {
        ReservationEvent::ReservationRequested(e) => {
            let dates: Vec<_> = e.days.iter().map(|d| d.date).collect();
            let service = &e.period.service.label;
            sqlx::query(
                "INSERT INTO held_days (reservation_id, child_id, restaurant_id, service, date)
                 SELECT $1, $2, $3, $4, d FROM unnest($5::date[]) AS d",
            )
            .bind(reservation_id)
            .bind(e.child.id)
            .bind(e.restaurant.id)
            .bind(service)
            .bind(&dates)
            .execute(&mut *tx)
            .await
            .map_err(database)?;
            // One statement creates the day's row at its first booking and takes a place on
            // it, in date order, so that two appends never wait on each other in a circle. A full
            // day's row is locked but not counted, and the append fails as a conflict.
            let (taken,): (i64,) = sqlx::query_as(
                "WITH taken AS (
                    INSERT INTO places AS pl (restaurant_id, service, date, capacity, taken)
                    SELECT $1, $2, d, COALESCE(o.capacity, p.capacity), 1
                      FROM unnest($3::date[]) AS d
                      JOIN periods p ON p.id = $4
                      LEFT JOIN capacity_overrides o ON o.period_id = p.id AND o.date = d
                     WHERE COALESCE(o.capacity, p.capacity) > 0
                     ORDER BY d
                    ON CONFLICT (restaurant_id, service, date) DO UPDATE SET taken = pl.taken + 1
                       WHERE pl.taken < pl.capacity
                    RETURNING 1)
                 SELECT count(*) FROM taken",
            )
            .bind(e.restaurant.id)
            .bind(service)
            .bind(&dates)
            .bind(e.period.id)
            .fetch_one(&mut *tx)
            .await
            .map_err(database)?;
            if taken as usize != dates.len() {
                return Err(conflict());
            }
        }
        ReservationEvent::ReservationExpired(_) => release(tx, reservation_id, None).await?,
        ReservationEvent::DaysCancelled(e) => release(tx, reservation_id, Some(&e.days)).await?,
        ReservationEvent::ReservationReinstated(e) => retake(tx, reservation_id, &e.days).await?,
        ReservationEvent::ReservationConfirmed(_) | ReservationEvent::ReservationPaid(_) => {}
    }
    Ok(())
}

/// Takes again the places an expired reservation had released, all or none: the child's meal
/// must still be free and every day must have a place left.
async fn retake(
    tx: &mut PgConnection,
    reservation_id: Uuid,
    dates: &[chrono::NaiveDate],
) -> Result<(), PersistenceError> {
    let inserted = sqlx::query(
        "INSERT INTO held_days (reservation_id, child_id, restaurant_id, service, date)
         SELECT $1, (r.e->'child'->>'id')::uuid, (r.e->'restaurant'->>'id')::uuid,
                r.e->'period'->'service'->>'label', d
           FROM (SELECT payload->'ReservationRequested' AS e, aggregate_type, aggregate_id, sequence
                   FROM events) r, unnest($2::date[]) AS d
          WHERE r.aggregate_type = 'Reservation' AND r.aggregate_id = $1::text AND r.sequence = 1",
    )
    .bind(reservation_id)
    .bind(dates)
    .execute(&mut *tx)
    .await
    .map_err(database)?;
    if inserted.rows_affected() as usize != dates.len() {
        return Err(conflict());
    }
    let taken = sqlx::query(
        "UPDATE places p SET taken = p.taken + 1 FROM held_days h
          WHERE h.reservation_id = $1 AND h.date = ANY($2)
            AND p.restaurant_id = h.restaurant_id AND p.service = h.service AND p.date = h.date
            AND p.taken < p.capacity",
    )
    .bind(reservation_id)
    .bind(dates)
    .execute(&mut *tx)
    .await
    .map_err(database)?;
    if taken.rows_affected() as usize != dates.len() {
        return Err(conflict());
    }
    Ok(())
}

async fn release(
    tx: &mut PgConnection,
    reservation_id: Uuid,
    dates: Option<&[chrono::NaiveDate]>,
) -> Result<(), PersistenceError> {
    sqlx::query(
        "WITH released AS (
            DELETE FROM held_days WHERE reservation_id = $1 AND ($2::date[] IS NULL OR date = ANY($2))
            RETURNING restaurant_id, service, date)
         UPDATE places p SET taken = p.taken - 1 FROM released r
          WHERE p.restaurant_id = r.restaurant_id AND p.service = r.service AND p.date = r.date",
    )
    .bind(reservation_id)
    .bind(dates)
    .execute(tx)
    .await
    .map_err(database)?;
    Ok(())
}
