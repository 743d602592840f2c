//! The SQL behind what a family reads of its reservations: the history (search, paging), one
//! reservation with its days, a child's own days in a month (for the calendar), and the credit
//! notes a cancellation issued. All from the read models (`reservation_view`, `invoice_view`).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::invoice::InvoiceIssued;
use crate::domain::reservation::{ReservationNumber, ReservationStatus};

/// One reservation as the history lists it; its status and number are checked as they are read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReservationRow {
    pub id: Uuid,
    #[sqlx(try_from = "i64")]
    pub number: ReservationNumber,
    pub child: String,
    pub child_id: Uuid,
    pub establishment: String,
    pub establishment_id: Uuid,
    pub period: String,
    pub period_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    #[sqlx(try_from = "String")]
    pub status: ReservationStatus,
    pub total: Decimal,
    pub pay_before: Option<DateTime<Utc>>,
}

const ROW_COLUMNS: &str =
    "id, number, child_first_name || ' ' || child_last_name AS child, child_id,
    restaurant_name AS establishment, restaurant_id AS establishment_id,
    period_activity || ' ' || period_label AS period, period_id, created_at, first_day, last_day,
    status, total, pay_before";

/// What the history is filtered by; `pattern` is an ILIKE pattern already escaped.
pub struct HistoryFilter<'a> {
    pub family_id: Uuid,
    pub child_id: Option<Uuid>,
    pub status: Option<&'a str>,
    pub pattern: Option<&'a str>,
    pub number: Option<i64>,
}

const FILTER: &str = "family_id = $1
        AND ($2::uuid IS NULL OR child_id = $2)
        AND ($3::text IS NULL OR status = $3)
        AND ($4::text IS NULL OR number = $5 OR (child_first_name || ' ' || child_last_name) ILIKE $4
             OR (child_last_name || ' ' || child_first_name) ILIKE $4)";

/// How many reservations match, and the page of them, newest first.
pub async fn history(
    pool: &PgPool,
    filter: &HistoryFilter<'_>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(i64, Vec<ReservationRow>)> {
    let (total,): (i64,) = sqlx::query_as(&format!(
        "SELECT count(*) FROM reservation_view WHERE {FILTER}"
    ))
    .bind(filter.family_id)
    .bind(filter.child_id)
    .bind(filter.status)
    .bind(filter.pattern)
    .bind(filter.number)
    .fetch_one(pool)
    .await?;
    let items = sqlx::query_as(&format!(
        "SELECT {ROW_COLUMNS} FROM reservation_view WHERE {FILTER}
          ORDER BY created_at DESC, number DESC LIMIT $6 OFFSET $7"
    ))
    .bind(filter.family_id)
    .bind(filter.child_id)
    .bind(filter.status)
    .bind(filter.pattern)
    .bind(filter.number)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok((total, items))
}

/// The family's reservation, or none (another family's is none too).
pub async fn reservation(
    pool: &PgPool,
    family_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ReservationRow>> {
    sqlx::query_as(&format!(
        "SELECT {ROW_COLUMNS} FROM reservation_view WHERE id = $1 AND family_id = $2"
    ))
    .bind(id)
    .bind(family_id)
    .fetch_optional(pool)
    .await
}

/// A reservation's days in order: date, status (the SQL `day_status`), unit price (the day's
/// own when the row keeps a price a day, its one price otherwise: migration 0040).
pub async fn days(pool: &PgPool, id: Uuid) -> sqlx::Result<Vec<(NaiveDate, String, Decimal)>> {
    sqlx::query_as(
        "SELECT d.date, day_status(d.date = ANY(r.cancelled_dates), r.status) AS status,
                coalesce(d.unit_price, r.unit_price) AS unit_price
           FROM reservation_view r, unnest(r.dates, r.unit_prices) AS d(date, unit_price)
          WHERE r.id = $1 ORDER BY d.date",
    )
    .bind(id)
    .fetch_all(pool)
    .await
}

/// The child's days of the period between two dates that still take a place, with their day
/// status and reservation.
pub async fn held_days(
    pool: &PgPool,
    child_id: Uuid,
    period_id: Uuid,
    (first, last): (NaiveDate, NaiveDate),
    active: &[&str],
) -> sqlx::Result<Vec<(NaiveDate, String, Uuid)>> {
    sqlx::query_as(
        "SELECT d.date, d.status, r.id
           FROM reservation_view r,
                LATERAL (SELECT date, day_status(date = ANY(r.cancelled_dates), r.status) AS status
                           FROM unnest(r.dates) AS date) d
          WHERE r.child_id = $1 AND r.period_id = $2 AND r.first_day <= $4 AND r.last_day >= $3
            AND d.date BETWEEN $3 AND $4
            AND d.status = ANY($5)",
    )
    .bind(child_id)
    .bind(period_id)
    .bind(first)
    .bind(last)
    .bind(active)
    .fetch_all(pool)
    .await
}

/// The family's invoices of these numbers, newest first (the caller keeps the credit notes).
pub async fn invoices_numbered(
    pool: &PgPool,
    family_id: Uuid,
    numbers: &[String],
) -> sqlx::Result<Vec<InvoiceIssued>> {
    let rows: Vec<(sqlx::types::Json<InvoiceIssued>,)> = sqlx::query_as(
        "SELECT document FROM invoice_view WHERE family_id = $1 AND number = ANY($2)
          ORDER BY issued_at DESC, number DESC",
    )
    .bind(family_id)
    .bind(numbers)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(doc,)| doc.0).collect())
}
