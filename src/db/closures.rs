//! A period's closures, replaced after its creation, and the days on which meals are held.

use chrono::NaiveDate;
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::period::{Closure, PeriodRules};

/// Replaces only the closures, in one statement: a concurrent edit of the other rules is kept.
/// Answers the period's rules as they now are.
pub async fn replace_closures(
    pool: &PgPool,
    period_id: Uuid,
    closures: &[Closure],
) -> sqlx::Result<PeriodRules> {
    let (rules,): (Json<PeriodRules>,) = sqlx::query_as(
        "UPDATE periods SET rules = jsonb_set(rules, '{closures}', $2) WHERE id = $1
         RETURNING rules",
    )
    .bind(period_id)
    .bind(Json(closures))
    .fetch_one(pool)
    .await?;
    Ok(rules.0)
}

/// The days between `from` and `to` on which meals of this service are held or paid. The
/// places' own table rather than a projection: written with the events, it never lags.
pub async fn held_days(
    pool: &PgPool,
    restaurant_id: Uuid,
    service: &str,
    (from, to): (NaiveDate, NaiveDate),
) -> sqlx::Result<Vec<NaiveDate>> {
    let held: Vec<(NaiveDate,)> = sqlx::query_as(
        "SELECT DISTINCT date FROM held_days
          WHERE restaurant_id = $1 AND service = $2 AND date BETWEEN $3 AND $4
          ORDER BY date",
    )
    .bind(restaurant_id)
    .bind(service)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    Ok(held.into_iter().map(|(day,)| day).collect())
}
