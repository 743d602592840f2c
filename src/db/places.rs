//! Reading places: which days have none left. One query, so that the calendar a parent sees and
//! the check a booking is decided on always agree.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

/// The restaurant's service days among `days` with no place left. A day with no places row yet
/// has none taken, and its capacity is the day's override or the period's default.
pub async fn full_days(
    pool: &PgPool,
    restaurant_id: Uuid,
    service: &str,
    period_id: Uuid,
    period_capacity: i32,
    days: &[NaiveDate],
) -> sqlx::Result<BTreeSet<NaiveDate>> {
    if days.is_empty() {
        return Ok(BTreeSet::new());
    }
    let full: Vec<(NaiveDate,)> = sqlx::query_as(
        "SELECT d.date FROM unnest($3::date[]) AS d(date)
           LEFT JOIN places p ON p.restaurant_id = $1 AND p.service = $2 AND p.date = d.date
           LEFT JOIN capacity_overrides o ON o.period_id = $4 AND o.date = d.date
          WHERE COALESCE(p.taken, 0) >= COALESCE(p.capacity, o.capacity, $5)",
    )
    .bind(restaurant_id)
    .bind(service)
    .bind(days)
    .bind(period_id)
    .bind(period_capacity)
    .fetch_all(pool)
    .await?;
    Ok(full.into_iter().map(|r| r.0).collect())
}
