//! The statements of the places' reconciliation (`app::jobs::reconciliation`): held days and
//! place counters set back to what the reservations projection says is held. Each runs in the
//! caller's transaction, after [`lock_places`].

use sqlx::PgConnection;

use crate::domain::reservation::DayStatus;

/// The day statuses that hold a place, as the SQL function `day_status` spells them.
fn holding() -> Vec<&'static str> {
    DayStatus::ALL
        .into_iter()
        .filter(|s| s.is_active())
        .map(DayStatus::as_str)
        .collect()
}

/// Appends that take or give back places wait until the transaction ends; reads go on.
pub async fn lock_places(tx: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("LOCK TABLE place_months, held_spans, child_meals IN EXCLUSIVE MODE")
        .execute(tx)
        .await
        .map(|_| ())
}

/// Gives back the held days the log no longer holds; answers how many days.
pub async fn release_unheld(tx: &mut PgConnection) -> sqlx::Result<u64> {
    let (released,): (i64,) = sqlx::query_as(
        "WITH should AS (
            SELECT h.reservation_id, h.days * k.kept AS days,
                   span_length(h.days) - span_length(h.days * k.kept) AS released
              FROM held_spans h,
                   LATERAL (SELECT COALESCE(days_span(array_agg(d.date)), '{}') AS kept
                              FROM reservation_view r, unnest(r.dates) AS d(date)
                             WHERE r.id = h.reservation_id
                               AND day_status(d.date = ANY(r.cancelled_dates), r.status) = ANY($1)) k
             WHERE NOT h.days <@ k.kept),
         cut AS (
            UPDATE held_spans h SET days = s.days FROM should s
             WHERE h.reservation_id = s.reservation_id
            RETURNING 1)
         SELECT COALESCE(sum(released), 0)::bigint FROM should",
    )
    .bind(holding())
    .fetch_one(tx)
    .await?;
    Ok(released as u64)
}

/// Restores the held days the log holds but that are missing (unless the child's meal that day
/// is held by another of its reservations); answers how many days.
pub async fn restore_held(tx: &mut PgConnection) -> sqlx::Result<u64> {
    let (restored,): (i64,) = sqlx::query_as(
        "WITH should AS (
            SELECT r.id, r.child_id, r.restaurant_id, r.service,
                   days_span(array_agg(d.date)) AS days
              FROM reservation_view r, unnest(r.dates) AS d(date)
             WHERE day_status(d.date = ANY(r.cancelled_dates), r.status) = ANY($1)
             GROUP BY r.id, r.child_id, r.restaurant_id, r.service),
         missing AS (
            SELECT s.id, s.child_id, s.restaurant_id, s.service,
                   s.days - COALESCE(h.days, '{}')
                          - COALESCE((SELECT range_agg(x) FROM held_spans o, unnest(o.days) AS x
                                       WHERE o.child_id = s.child_id AND o.service = s.service
                                         AND o.reservation_id <> s.id), '{}') AS days
              FROM should s LEFT JOIN held_spans h ON h.reservation_id = s.id),
         restored AS (
            INSERT INTO held_spans AS hs (reservation_id, child_id, restaurant_id, service, days)
            SELECT id, child_id, restaurant_id, service, days FROM missing WHERE NOT isempty(days)
            ON CONFLICT (reservation_id) DO UPDATE SET days = hs.days + EXCLUDED.days
            RETURNING 1)
         SELECT COALESCE(sum(span_length(days)), 0)::bigint FROM missing WHERE NOT isempty(days)",
    )
    .bind(holding())
    .fetch_one(tx)
    .await?;
    Ok(restored as u64)
}

/// Sets each child's meals back to the union of its reservations' held days.
pub async fn recount_meals(tx: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM child_meals m
          WHERE NOT EXISTS (SELECT FROM held_spans h
                             WHERE h.child_id = m.child_id AND h.service = m.service
                               AND NOT isempty(h.days))",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO child_meals AS m (child_id, service, days)
         SELECT h.child_id, h.service, range_agg(x)
           FROM held_spans h, unnest(h.days) AS x
          GROUP BY h.child_id, h.service
         ON CONFLICT (child_id, service) DO UPDATE SET days = EXCLUDED.days
          WHERE m.days <> EXCLUDED.days",
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Sets each day's place counter back to its number of held days; answers how many days
/// changed. The check that no day is over its capacity stays: a day found over capacity gets
/// its capacity raised to what the log holds, rather than places taken away from families.
pub async fn recount_places(tx: &mut PgConnection) -> sqlx::Result<u64> {
    let (changed,): (i64,) = sqlx::query_as(
        "WITH counted AS (
            SELECT h.restaurant_id, h.service, month_of(d) AS month,
                   month_counts(array_agg(day_of(d))) AS held
              FROM held_spans h, span_days(h.days) AS d
             GROUP BY h.restaurant_id, h.service, month_of(d)),
         fixed AS (
            SELECT pm.restaurant_id, pm.service, pm.month,
                   COALESCE(c.held, month_counts('{}')) AS held,
                   (SELECT count(*) FROM unnest(pm.taken, COALESCE(c.held, month_counts('{}')))
                                      AS u(was, held) WHERE was <> held) AS changed
              FROM place_months pm
              LEFT JOIN counted c ON c.restaurant_id = pm.restaurant_id
                                 AND c.service = pm.service AND c.month = pm.month),
         recounted AS (
            UPDATE place_months pm
               SET taken = f.held,
                   capacity = (SELECT array_agg(CASE WHEN c IS NULL AND h = 0 THEN NULL
                                                     ELSE GREATEST(c, h) END ORDER BY i)
                                 FROM unnest(pm.capacity, f.held) WITH ORDINALITY AS u(c, h, i))
              FROM fixed f
             WHERE pm.restaurant_id = f.restaurant_id AND pm.service = f.service
               AND pm.month = f.month AND f.changed > 0
            RETURNING 1)
         SELECT COALESCE(sum(changed), 0)::bigint FROM fixed",
    )
    .fetch_one(tx)
    .await?;
    Ok(changed as u64)
}
