//! Reading places: which days have none left. One query, so that the calendar a parent sees and
//! the check a booking is decided on always agree.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::reservation::Availability;

/// The restaurant's service days among `days` with no place left for `child_id`. A day whose
/// entry in `place_months` is unset has none taken, and its capacity is the day's override or
/// the period's default. A place freed on a day with a waiting list is kept for the children in
/// line: it counts as taken by each child waiting ahead of this one (all of them, for a child
/// not in line), so that the first in line gets it and nobody passes them.
pub async fn full_days(
    pool: &PgPool,
    restaurant_id: Uuid,
    service: &str,
    period_id: Uuid,
    period_capacity: i32,
    child_id: Uuid,
    days: &[NaiveDate],
) -> sqlx::Result<BTreeSet<NaiveDate>> {
    // The calendar's days are checked as a booking's are, by the same statement.
    let availability = availability(
        pool,
        restaurant_id,
        service,
        period_id,
        period_capacity,
        child_id,
        days,
    )
    .await?;
    Ok(availability.full)
}

/// [`full_days`] and, among the same days, those the child already has a meal on (of this
/// service, in any reservation): what a booking is decided on, read in one statement rather
/// than two sent side by side, each of which cost a connection of the pool and its test.
pub async fn availability(
    pool: &PgPool,
    restaurant_id: Uuid,
    service: &str,
    period_id: Uuid,
    period_capacity: i32,
    child_id: Uuid,
    days: &[NaiveDate],
) -> sqlx::Result<Availability> {
    if days.is_empty() {
        return Ok(Availability::default());
    }
    let rows: Vec<(NaiveDate, bool)> = sqlx::query_as(&format!(
        "SELECT f.date, false FROM ({FULL_DAYS}) AS f
         UNION ALL
         SELECT d, true FROM child_meals m, unnest($3::date[]) AS d
          WHERE m.child_id = $6 AND m.service = $2 AND d <@ m.days"
    ))
    .bind(restaurant_id)
    .bind(service)
    .bind(days)
    .bind(period_id)
    .bind(period_capacity)
    .bind(child_id)
    .fetch_all(pool)
    .await?;
    let mut availability = Availability::default();
    for (date, already) in rows {
        if already {
            availability.already_booked.insert(date);
        } else {
            availability.full.insert(date);
        }
    }
    Ok(availability)
}

/// The days among $3 with no place left for child $6 of restaurant $1's service $2, in period
/// $4 of default capacity $5.
const FULL_DAYS: &str = "SELECT d.date FROM unnest($3::date[]) AS d(date)
   LEFT JOIN place_months p
          ON p.restaurant_id = $1 AND p.service = $2 AND p.month = month_of(d.date)
   LEFT JOIN capacity_overrides o ON o.period_id = $4 AND o.date = d.date
  WHERE COALESCE(p.taken[day_of(d.date)], 0)
        + (SELECT count(*) FROM waitlist_entries w
            WHERE w.restaurant_id = $1 AND w.service = $2 AND w.date = d.date
              AND w.child_id <> $6
              AND w.joined_sequence < COALESCE(
                    (SELECT me.joined_sequence FROM waitlist_entries me
                      WHERE me.restaurant_id = $1 AND me.service = $2
                        AND me.date = d.date AND me.child_id = $6),
                    9223372036854775807))
        >= COALESCE(p.capacity[day_of(d.date)], o.capacity, $5)";
