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
    sqlx::query("LOCK TABLE places, held_days IN EXCLUSIVE MODE")
        .execute(tx)
        .await
        .map(|_| ())
}

/// Gives back the held days the log no longer holds; answers how many.
pub async fn release_unheld(tx: &mut PgConnection) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM held_days h
          WHERE NOT EXISTS (SELECT 1 FROM reservation_view r
                             WHERE r.id = h.reservation_id AND h.date = ANY(r.dates)
                               AND day_status(h.date = ANY(r.cancelled_dates), r.status) = ANY($1))",
    )
    .bind(holding())
    .execute(tx)
    .await?
    .rows_affected())
}

/// Restores the held days the log holds but that are missing; answers how many.
pub async fn restore_held(tx: &mut PgConnection) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "INSERT INTO held_days (reservation_id, child_id, restaurant_id, service, date)
         SELECT r.id, r.child_id, r.restaurant_id, r.service, d.date
           FROM reservation_view r, unnest(r.dates) AS d(date)
          WHERE day_status(d.date = ANY(r.cancelled_dates), r.status) = ANY($1)
            AND NOT EXISTS (SELECT 1 FROM held_days h WHERE h.reservation_id = r.id AND h.date = d.date)
         ON CONFLICT DO NOTHING",
    )
    .bind(holding())
    .execute(tx)
    .await?
    .rows_affected())
}

/// Sets each place counter back to its number of held days; answers how many changed. The
/// check constraint taken <= capacity stays: a day found over capacity gets its capacity raised
/// to what the log holds, rather than places taken away from families.
pub async fn recount_places(tx: &mut PgConnection) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "WITH counted AS (
            SELECT p.restaurant_id, p.service, p.date, count(h.date)::int AS held
              FROM places p
              LEFT JOIN held_days h ON h.restaurant_id = p.restaurant_id AND h.service = p.service AND h.date = p.date
             GROUP BY p.restaurant_id, p.service, p.date)
         UPDATE places p SET taken = c.held, capacity = GREATEST(p.capacity, c.held)
           FROM counted c
          WHERE p.restaurant_id = c.restaurant_id AND p.service = c.service AND p.date = c.date AND p.taken <> c.held",
    )
    .execute(tx)
    .await?
    .rows_affected())
}
