//! One day's capacity of a period's service: the override and the day's entry in
//! `place_months`, changed in one transaction so that the places never drop below what is
//! already taken.

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

pub struct DayCapacity<'a> {
    pub period_id: Uuid,
    pub restaurant_id: Uuid,
    pub service: &'a str,
    pub date: NaiveDate,
    pub capacity: i32,
}

/// Sets the day's capacity; answers the places taken that day, or `None` (nothing changed)
/// when more are taken than the new capacity.
pub async fn set_day_capacity(pool: &PgPool, day: DayCapacity<'_>) -> sqlx::Result<Option<i32>> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO capacity_overrides (period_id, date, capacity) VALUES ($1, $2, $3)
         ON CONFLICT (period_id, date) DO UPDATE SET capacity = EXCLUDED.capacity",
    )
    .bind(day.period_id)
    .bind(day.date)
    .bind(day.capacity)
    .execute(&mut *tx)
    .await?;
    // The day's entry of its month's row, made if need be; refused when more are taken.
    let row: Option<(i32,)> = sqlx::query_as(
        "INSERT INTO place_months AS pm (restaurant_id, service, month, capacity, taken)
         VALUES ($1, $2, month_of($3), month_values(ARRAY[day_of($3)], ARRAY[$4]), month_counts('{}'))
         ON CONFLICT (restaurant_id, service, month) DO UPDATE SET capacity[day_of($3)] = $4
          WHERE pm.taken[day_of($3)] <= $4
         RETURNING taken[day_of($3)]",
    )
    .bind(day.restaurant_id)
    .bind(day.service)
    .bind(day.date)
    .bind(day.capacity)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((taken,)) = row else {
        // Dropping the transaction rolls the override back too.
        return Ok(None);
    };
    tx.commit().await?;
    Ok(Some(taken))
}
