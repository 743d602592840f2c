//! The headcount projection (`headcount_months`, a month of days per row): meals booked and
//! held per restaurant, day, service and meal option.

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
        "SELECT h.period_id, (h.month + (u.i - 1)::int) AS date, h.service, h.meal_option,
                u.booked, u.awaiting_payment
           FROM headcount_months h,
                unnest(h.booked, h.awaiting_payment) WITH ORDINALITY AS u(booked, awaiting_payment, i)
          WHERE h.restaurant_id = $1 AND h.month BETWEEN month_of($2) AND $3
            AND (h.month + (u.i - 1)::int) BETWEEN $2 AND $3
            AND (u.booked <> 0 OR u.awaiting_payment <> 0)",
    )
    .bind(restaurant_id)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}
