//! One day's capacity of a period's service: the override and the day's places, changed in one
//! transaction so that the places never drop below what is already taken.

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
    sqlx::query(
        "INSERT INTO places (restaurant_id, service, date, capacity) VALUES ($1, $2, $3, $4)
         ON CONFLICT (restaurant_id, service, date) DO NOTHING",
    )
    .bind(day.restaurant_id)
    .bind(day.service)
    .bind(day.date)
    .bind(day.capacity)
    .execute(&mut *tx)
    .await?;
    let row: Option<(i32,)> = sqlx::query_as(
        "UPDATE places SET capacity = $4 WHERE restaurant_id = $1 AND service = $2 AND date = $3 AND taken <= $4
         RETURNING taken",
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
