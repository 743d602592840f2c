//! A reservation command's one event appended with the places it takes or gives back, in one
//! statement committed on its own.
//!
//! Every command emits one event; its append used to be a transaction of three to five round
//! trips (BEGIN, the event, the held days, the places, COMMIT). One statement saves the round
//! trips and, above all, holds the transaction's id for the statement only: the projector reads
//! the log in commit-safe order and cannot pass a transaction in progress, so every booking
//! waiting for a place kept every reader's view of the log behind it. A place found gone ends
//! the statement with `append_conflict()` (SQLSTATE 40001), which rolls it back whole.

use cqrs_es::persist::{PersistenceError, SerializedEvent};
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::append::{NewEvent, APPENDED};
use super::event_repository::database;
use crate::domain::reservation::ReservationEvent;

pub async fn append_alone(pool: &PgPool, event: &SerializedEvent) -> Result<(), PersistenceError> {
    let reservation_id: Uuid = event
        .aggregate_id
        .parse()
        .map_err(|e: uuid::Error| PersistenceError::UnknownError(Box::new(e)))?;
    // Read in place: a whole-year request is ~140 days of JSON, not worth copying per command.
    let decoded = ReservationEvent::deserialize(&event.payload)?;
    let sql = match &decoded {
        ReservationEvent::ReservationRequested(_) => {
            // Places are taken in date order, so that two appends never wait on each other in a
            // circle; a full day's row is locked but not counted.
            format!(
                "WITH {APPENDED},
                 held AS (
                    INSERT INTO held_days (reservation_id, child_id, restaurant_id, service, date)
                    SELECT $8, $9, $10, $11, d FROM unnest($12::date[]) AS d
                    RETURNING 1),
                 taken AS (
                    INSERT INTO places AS pl (restaurant_id, service, date, capacity, taken)
                    SELECT $10, $11, d, COALESCE(o.capacity, p.capacity), 1
                      FROM unnest($12::date[]) AS d
                      JOIN periods p ON p.id = $13
                      LEFT JOIN capacity_overrides o ON o.period_id = p.id AND o.date = d
                     WHERE COALESCE(o.capacity, p.capacity) > 0
                     ORDER BY d
                    ON CONFLICT (restaurant_id, service, date) DO UPDATE SET taken = pl.taken + 1
                       WHERE pl.taken < pl.capacity
                    RETURNING 1)
                 SELECT CASE WHEN (SELECT count(*) FROM taken) = cardinality($12::date[])
                              AND (SELECT count(*) FROM held) = cardinality($12::date[])
                             THEN 0 ELSE append_conflict() END"
            )
        }
        ReservationEvent::ReservationExpired(_) | ReservationEvent::DaysCancelled(_) => {
            format!(
                "WITH {APPENDED},
                 released AS (
                    DELETE FROM held_days
                     WHERE reservation_id = $8 AND ($9::date[] IS NULL OR date = ANY($9))
                    RETURNING restaurant_id, service, date),
                 freed AS (
                    UPDATE places p SET taken = p.taken - 1 FROM released r
                     WHERE p.restaurant_id = r.restaurant_id AND p.service = r.service
                       AND p.date = r.date
                    RETURNING 1)
                 SELECT (SELECT count(*) FROM appended)::int"
            )
        }
        ReservationEvent::ReservationReinstated(_) => {
            // Takes again the places an expired reservation gave back, all or none: the child's
            // meal must still be free and every day must have a place left.
            format!(
                "WITH {APPENDED},
                 held AS (
                    INSERT INTO held_days (reservation_id, child_id, restaurant_id, service, date)
                    SELECT $8, (r.e->'child'->>'id')::uuid, (r.e->'restaurant'->>'id')::uuid,
                           r.e->'period'->'service'->>'label', d
                      FROM (SELECT payload->'ReservationRequested' AS e FROM events
                             WHERE aggregate_type = 'Reservation' AND aggregate_id = $8::text
                               AND sequence = 1) r,
                           unnest($9::date[]) AS d
                    RETURNING restaurant_id, service, date),
                 taken AS (
                    UPDATE places p SET taken = p.taken + 1 FROM held h
                     WHERE p.restaurant_id = h.restaurant_id AND p.service = h.service
                       AND p.date = h.date AND p.taken < p.capacity
                    RETURNING 1)
                 SELECT CASE WHEN (SELECT count(*) FROM taken) = cardinality($9::date[])
                              AND (SELECT count(*) FROM held) = cardinality($9::date[])
                             THEN 0 ELSE append_conflict() END"
            )
        }
        ReservationEvent::ReservationConfirmed(_) | ReservationEvent::ReservationPaid(_) => {
            format!("WITH {APPENDED} SELECT count(*)::int FROM appended")
        }
    };
    // The event is $1 to $7, as in every append; what it takes or gives back follows.
    let appended = NewEvent::serialized(event);
    let query = appended.bind_scalar(sqlx::query_scalar::<_, i32>(&sql));
    let query = match &decoded {
        ReservationEvent::ReservationRequested(e) => query
            .bind(reservation_id)
            .bind(e.child.id)
            .bind(e.restaurant.id)
            .bind(&e.period.service.label)
            .bind(e.days.iter().map(|d| d.date).collect::<Vec<_>>())
            .bind(e.period.id),
        ReservationEvent::ReservationExpired(_) => query
            .bind(reservation_id)
            .bind(None::<Vec<chrono::NaiveDate>>),
        ReservationEvent::DaysCancelled(e) => query.bind(reservation_id).bind(Some(&e.days)),
        ReservationEvent::ReservationReinstated(e) => query.bind(reservation_id).bind(&e.days),
        ReservationEvent::ReservationConfirmed(_) | ReservationEvent::ReservationPaid(_) => query,
    };
    query.fetch_one(pool).await.map_err(database)?;
    Ok(())
}
