//! A reservation command's one event appended with the places it takes or gives back, in one
//! statement committed on its own.
//!
//! Every command emits one event; its append used to be a transaction of three to five round
//! trips (BEGIN, the event, the held days, the places, COMMIT). One statement saves the round
//! trips and, above all, holds the transaction's id for the statement only: the projector reads
//! the log in commit-safe order and cannot pass a transaction in progress, so every booking
//! waiting for a place kept every reader's view of the log behind it. A place found gone ends
//! the statement with `append_conflict()` (SQLSTATE 40001), which rolls it back whole.
//!
//! The statement writes a handful of rows whatever the number of days (migration 0036): a
//! whole-year request used to insert ~140 held days and update ~140 place rows, each of them a
//! row every other whole-year request of the restaurant then queued on.

use std::fmt::Write;

use chrono::NaiveDate;
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
            let take = take_places(&Holder {
                reservation: "$8",
                child: "$9::uuid",
                restaurant: "$10::uuid",
                service: "$11::text",
                days: "$12::date[]",
                span: "$14::text::datemultirange",
                period: "$13::uuid",
            });
            format!("WITH {APPENDED}, {take}")
        }
        ReservationEvent::ReservationExpired(_) | ReservationEvent::DaysCancelled(_) => {
            // The days given back are those still held among the event's ($9; all of them
            // for an expiry): the reservation's span, the child's meals and the months'
            // counters lose exactly those.
            //
            // Its months' rows are locked first and in month order, as a request takes them
            // (`take_places`): the update below locks them in whatever order its join gives,
            // and a release and a whole-year request each holding a month the other wanted
            // deadlocked until PostgreSQL's `deadlock_timeout` (1 s) aborted one of them, a
            // one-second stall of every booking of the restaurant. `released` waits for
            // `locked` (its condition reads it), and the child's meals come after `released`,
            // so the child's row too is taken after the months, as a request takes it.
            format!(
                "WITH {APPENDED},
                 giving AS (
                    SELECT reservation_id, restaurant_id, service,
                           CASE WHEN $9::date[] IS NULL THEN days
                                ELSE days * days_span($9) END AS gone
                      FROM held_spans WHERE reservation_id = $8),
                 locked AS (
                    SELECT 1 FROM place_months pm
                     WHERE (pm.restaurant_id, pm.service, pm.month) IN (
                            SELECT g.restaurant_id, g.service, month_of(d)
                              FROM giving g, span_days(g.gone) AS d)
                     ORDER BY pm.restaurant_id, pm.service, pm.month
                     FOR UPDATE OF pm),
                 released AS (
                    UPDATE held_spans h SET days = h.days - g.gone
                      FROM giving g
                     WHERE h.reservation_id = g.reservation_id
                       AND (SELECT count(*) FROM locked) >= 0
                    RETURNING h.child_id, h.restaurant_id, h.service, g.gone),
                 meals AS (
                    UPDATE child_meals m SET days = m.days - r.gone FROM released r
                     WHERE m.child_id = r.child_id AND m.service = r.service
                    RETURNING 1),
                 gone AS (
                    SELECT r.restaurant_id, r.service, month_of(d) AS month,
                           month_counts(array_agg(day_of(d))) AS taken
                      FROM released r, span_days(r.gone) AS d
                     GROUP BY r.restaurant_id, r.service, month_of(d)),
                 freed AS (
                    UPDATE place_months pm SET taken = month_minus(pm.taken, g.taken) FROM gone g
                     WHERE pm.restaurant_id = g.restaurant_id AND pm.service = g.service
                       AND pm.month = g.month
                    RETURNING 1)
                 SELECT (SELECT count(*) FROM appended)::int"
            )
        }
        ReservationEvent::ReservationReinstated(_) => {
            // Takes again the places an expired reservation gave back, all or none, as a
            // request does: who, where and which period are in the reservation's first event.
            let requested = "(SELECT payload->'ReservationRequested' FROM events
                               WHERE aggregate_type = 'Reservation' AND aggregate_id = $8::text
                                 AND sequence = 1)";
            let take = take_places(&Holder {
                reservation: "$8",
                child: &format!("({requested}->'child'->>'id')::uuid"),
                restaurant: &format!("({requested}->'restaurant'->>'id')::uuid"),
                service: &format!("({requested}->'period'->'service'->>'label')"),
                days: "$9::date[]",
                span: "days_span($9::date[])",
                period: &format!("({requested}->'period'->>'id')::uuid"),
            });
            format!("WITH {APPENDED}, {take}")
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
            .bind(e.period.id)
            .bind(multirange_literal(e.days.iter().map(|d| d.date))),
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

/// Who takes places, each a SQL expression of the statement's parameters.
struct Holder<'a> {
    reservation: &'a str,
    child: &'a str,
    restaurant: &'a str,
    service: &'a str,
    days: &'a str,
    /// The same days as a `datemultirange`.
    span: &'a str,
    period: &'a str,
}

/// `days` as the text of a `datemultirange`, `{[2025-09-01,2025-09-03),[2025-09-04,2025-09-05)}`:
/// what `days_span` makes of them, built here because PostgreSQL's `range_agg` over a whole
/// year's days took 0.13-0.15 ms of the append's 1.4 (`EXPLAIN ANALYZE`), and the request needs
/// the span twice (its held days and the child's meals).
pub fn multirange_literal(days: impl IntoIterator<Item = NaiveDate>) -> String {
    let mut days: Vec<NaiveDate> = days.into_iter().collect();
    days.sort_unstable();
    days.dedup();
    let mut text = String::with_capacity(2 + days.len() * 12);
    text.push('{');
    let mut runs = days.into_iter().peekable();
    while let Some(start) = runs.next() {
        let mut end = start;
        while let Some(&next) = runs.peek() {
            if end.succ_opt() != Some(next) {
                break;
            }
            end = next;
            runs.next();
        }
        if text.len() > 1 {
            text.push(',');
        }
        // A range's end is exclusive; the day after the last is what PostgreSQL writes too.
        let after = end.succ_opt().expect("a school day before the end of time");
        write!(text, "[{start},{after})").expect("writing to a String");
    }
    text.push('}');
    text
}

/// The rest of a `WITH` that takes a place on each of the holder's days and holds them, all or
/// none, ending in the `SELECT` that fails the statement with `append_conflict()` when any is
/// missing. A handful of rows whatever the number of days: one `place_months` row per month
/// (taken in month order, so that two appends never wait on each other in a circle; a month
/// with a full day is locked but not counted), the reservation's `held_spans` row and the
/// child's `child_meals` row (refused when a day is already held for the child).
fn take_places(h: &Holder) -> String {
    let Holder {
        reservation,
        child,
        restaurant,
        service,
        days,
        span,
        period,
    } = h;
    format!(
        "wanted AS (
            SELECT month_of(d) AS month, day_of(d) AS day,
                   COALESCE(o.capacity, p.capacity) AS capacity
              FROM unnest({days}) AS d
              JOIN periods p ON p.id = {period}
              LEFT JOIN capacity_overrides o ON o.period_id = p.id AND o.date = d),
         months AS (
            SELECT month, month_counts(array_agg(day)) AS taken,
                   month_values(array_agg(day), array_agg(capacity)) AS capacity,
                   bool_and(capacity > 0) AS open
              FROM wanted GROUP BY month),
         taken AS (
            INSERT INTO place_months AS pm (restaurant_id, service, month, capacity, taken)
            SELECT {restaurant}, {service}, month, capacity, taken FROM months
             WHERE open
             ORDER BY month
            ON CONFLICT (restaurant_id, service, month) DO UPDATE
               SET capacity = month_capacities(pm.capacity, EXCLUDED.capacity),
                   taken = month_plus(pm.taken, EXCLUDED.taken)
             WHERE month_fits(month_plus(pm.taken, EXCLUDED.taken),
                              month_capacities(pm.capacity, EXCLUDED.capacity))
            RETURNING 1),
         held AS (
            INSERT INTO held_spans AS hs (reservation_id, child_id, restaurant_id, service, days)
            VALUES ({reservation}, {child}, {restaurant}, {service}, {span})
            ON CONFLICT (reservation_id) DO UPDATE SET days = hs.days + EXCLUDED.days
             WHERE NOT hs.days && EXCLUDED.days
            RETURNING 1),
         meals AS (
            INSERT INTO child_meals AS cm (child_id, service, days)
            VALUES ({child}, {service}, {span})
            ON CONFLICT (child_id, service) DO UPDATE SET days = cm.days + EXCLUDED.days
             WHERE NOT cm.days && EXCLUDED.days
            RETURNING 1)
         SELECT CASE WHEN (SELECT count(*) FROM taken) = (SELECT count(*) FROM months)
                      AND EXISTS (SELECT FROM held) AND EXISTS (SELECT FROM meals)
                     THEN 0 ELSE append_conflict() END"
    )
}
