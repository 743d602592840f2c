//! Price lists by income bracket, and the families' quotient familial.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::domain::tariff::{Bracket, PriceList};

#[derive(sqlx::FromRow)]
struct BracketRow {
    period_id: Uuid,
    effective_from: NaiveDate,
    up_to: Option<i32>,
    unit_price: Decimal,
}

const BRACKETS: &str = "SELECT t.period_id, t.effective_from, b.up_to, b.unit_price
       FROM tariffs t JOIN tariff_brackets b ON b.tariff_id = t.id";

/// Rows ordered by period, date and position, folded back into price lists.
fn fold(rows: Vec<BracketRow>) -> sqlx::Result<HashMap<Uuid, Vec<PriceList>>> {
    let mut grouped: Vec<((Uuid, NaiveDate), Vec<Bracket>)> = Vec::new();
    for row in rows {
        let key = (row.period_id, row.effective_from);
        let bracket = Bracket {
            up_to: row.up_to,
            unit_price: row.unit_price,
        };
        match grouped.last_mut() {
            Some((last, brackets)) if *last == key => brackets.push(bracket),
            _ => grouped.push((key, vec![bracket])),
        }
    }
    let mut lists: HashMap<Uuid, Vec<PriceList>> = HashMap::new();
    for ((period_id, effective_from), brackets) in grouped {
        // Only lists the domain accepted were stored; one that no longer parses is corruption.
        let list = PriceList::new(effective_from, brackets)
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        lists.entry(period_id).or_default().push(list);
    }
    Ok(lists)
}

/// A period's price lists, oldest first.
pub async fn price_lists(
    executor: impl PgExecutor<'_>,
    period_id: Uuid,
) -> sqlx::Result<Vec<PriceList>> {
    let rows = sqlx::query_as(&format!(
        "{BRACKETS} WHERE t.period_id = $1 ORDER BY t.effective_from, b.position"
    ))
    .bind(period_id)
    .fetch_all(executor)
    .await?;
    Ok(fold(rows)?.remove(&period_id).unwrap_or_default())
}

/// A `LATERAL` join giving period `p`'s price lists as three arrays in list and bracket order
/// (`tariff_from`, `tariff_up_to`, `tariff_price`; NULL when it has none), for a statement that
/// reads them with other things ([`price_lists_of_columns`] folds them back).
pub const PRICE_LIST_COLUMNS_OF_P: &str = "LEFT JOIN LATERAL (
    SELECT array_agg(t.effective_from ORDER BY t.effective_from, b.position) AS tariff_from,
           array_agg(b.up_to ORDER BY t.effective_from, b.position) AS tariff_up_to,
           array_agg(b.unit_price ORDER BY t.effective_from, b.position) AS tariff_price
      FROM tariffs t JOIN tariff_brackets b ON b.tariff_id = t.id
     WHERE t.period_id = p.id) AS price_lists ON true";

/// The price lists of [`PRICE_LIST_COLUMNS_OF_P`]'s three arrays.
pub fn price_lists_of_columns(
    period_id: Uuid,
    from: Option<Vec<NaiveDate>>,
    up_to: Option<Vec<Option<i32>>>,
    price: Option<Vec<Decimal>>,
) -> sqlx::Result<Vec<PriceList>> {
    let (from, up_to, price) = (
        from.unwrap_or_default(),
        up_to.unwrap_or_default(),
        price.unwrap_or_default(),
    );
    if from.len() != up_to.len() || from.len() != price.len() {
        return Err(sqlx::Error::Decode(
            "a price list's arrays differ in length".into(),
        ));
    }
    let rows = from
        .into_iter()
        .zip(up_to)
        .zip(price)
        .map(|((effective_from, up_to), unit_price)| BracketRow {
            period_id,
            effective_from,
            up_to,
            unit_price,
        })
        .collect();
    Ok(fold(rows)?.remove(&period_id).unwrap_or_default())
}

/// Every period's price lists, oldest first: one query for the establishments' page.
pub async fn price_lists_by_period(
    pool: &PgPool,
    organisation_id: Uuid,
) -> sqlx::Result<HashMap<Uuid, Vec<PriceList>>> {
    let rows = sqlx::query_as(&format!(
        "{BRACKETS} JOIN periods p ON p.id = t.period_id
                    JOIN restaurants r ON r.id = p.restaurant_id
          WHERE r.organisation_id = $1
          ORDER BY t.period_id, t.effective_from, b.position"
    ))
    .bind(organisation_id)
    .fetch_all(pool)
    .await?;
    fold(rows)
}

/// Stores a new price list; `None` when the period already has one from that date (price lists
/// are never edited).
pub async fn insert_price_list(
    pool: &PgPool,
    period_id: Uuid,
    list: &PriceList,
) -> sqlx::Result<Option<Uuid>> {
    let mut tx = pool.begin().await?;
    let id: Option<(Uuid,)> = sqlx::query_as(
        "INSERT INTO tariffs (id, period_id, effective_from) VALUES ($1, $2, $3)
         ON CONFLICT (period_id, effective_from) DO NOTHING RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(period_id)
    .bind(list.effective_from)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id,)) = id else {
        return Ok(None);
    };
    for (position, bracket) in list.brackets().iter().enumerate() {
        sqlx::query(
            "INSERT INTO tariff_brackets (tariff_id, position, up_to, unit_price)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(position as i32)
        .bind(bracket.up_to)
        .bind(bracket.unit_price)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Some(id))
}

/// The family's quotient familial (`None`: unknown), or `None` for a family of another
/// organisation or none at all.
pub async fn quotient(
    pool: &PgPool,
    organisation_id: Uuid,
    family_id: Uuid,
) -> sqlx::Result<Option<Option<i32>>> {
    let row: Option<(Option<i32>,)> = sqlx::query_as(
        "SELECT quotient_familial FROM families WHERE id = $1 AND organisation_id = $2",
    )
    .bind(family_id)
    .bind(organisation_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.0))
}

/// The family's quotient familial and when it was last set (`None`: never, or before that was
/// recorded), or `None` for a family of another organisation or none at all.
pub async fn quotient_set(
    pool: &PgPool,
    organisation_id: Uuid,
    family_id: Uuid,
) -> sqlx::Result<Option<(Option<i32>, Option<DateTime<Utc>>)>> {
    sqlx::query_as(
        "SELECT quotient_familial, quotient_set_at FROM families
          WHERE id = $1 AND organisation_id = $2",
    )
    .bind(family_id)
    .bind(organisation_id)
    .fetch_optional(pool)
    .await
}

/// Sets the family's quotient familial, as of `now`; false when there is no such family.
pub async fn set_quotient(
    pool: &PgPool,
    organisation_id: Uuid,
    family_id: Uuid,
    quotient: Option<i32>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE families SET quotient_familial = $3, quotient_set_at = $4
          WHERE id = $1 AND organisation_id = $2",
    )
    .bind(family_id)
    .bind(organisation_id)
    .bind(quotient)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
