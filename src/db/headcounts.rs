//! The headcount projection (`headcount_view`): meals booked and held per restaurant, day,
//! service and meal option.

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

/// One count; `meal_option` as the events spelled it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeadcountRow {
    pub period_id: Uuid,
    pub date: NaiveDate,
    pub service: String,
    pub meal_option: String,
    pub booked: i32,
    pub awaiting_payment: i32,
}

/// The restaurant's counts from `from` to `to` (both included), in no particular order.
pub async fn counted(
    pool: &PgPool,
    restaurant_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<HeadcountRow>> {
    sqlx::query_as(
        "SELECT period_id, date, service, meal_option, booked, awaiting_payment FROM headcount_view
          WHERE restaurant_id = $1 AND date BETWEEN $2 AND $3",
    )
    .bind(restaurant_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}
