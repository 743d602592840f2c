//! The children taking a meal in a restaurant on a day, from the reservations' read model.

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, sqlx::FromRow)]
pub struct RollCallRow {
    pub service: String,
    pub child_id: Uuid,
    pub child_first_name: String,
    pub child_last_name: String,
    pub meal_option: String,
    /// The day's status (`day_status` in SQL): booked, awaiting payment or requested.
    pub status: String,
    pub number: i64,
}

/// Every child with a place on `date` in the restaurant (booked, awaiting payment, or held by a
/// request not yet confirmed), by service and name.
pub async fn roll_call(
    pool: &PgPool,
    restaurant_id: Uuid,
    date: NaiveDate,
) -> sqlx::Result<Vec<RollCallRow>> {
    sqlx::query_as(
        "SELECT service, child_id, child_first_name, child_last_name, meal_option,
                day_status(false, status) AS status, number
           FROM reservation_view
          WHERE restaurant_id = $1 AND $2 = ANY(dates) AND NOT ($2 = ANY(cancelled_dates))
            AND day_status(false, status) IN ('booked', 'awaiting_payment', 'requested')
          ORDER BY service, lower(child_last_name), lower(child_first_name), child_id",
    )
    .bind(restaurant_id)
    .bind(date)
    .fetch_all(pool)
    .await
}
