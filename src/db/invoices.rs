//! Invoices with gapless numbers per organisation and year (`2017-000001`).

use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InvoiceLine {
    pub reservation_number: String,
    pub child: String,
    pub restaurant: String,
    pub period: String,
    pub days: Vec<chrono::NaiveDate>,
    pub quantity: u32,
    pub unit_price: Decimal,
    pub amount: Decimal,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvoiceRow {
    pub id: Uuid,
    pub number: String,
    pub issued_at: DateTime<Utc>,
    pub total: Decimal,
    pub lines: Json<Vec<InvoiceLine>>,
}

/// Issues the invoice of a settled payment, once. The counter moves in the same transaction as
/// the insert, so a failure leaves no hole in the numbering.
pub async fn issue_for_payment(
    pool: &PgPool,
    organisation_id: Uuid,
    family_id: Uuid,
    payment_id: Uuid,
    lines: &[InvoiceLine],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<String>> {
    let mut tx = pool.begin().await?;
    let already: Option<(String,)> =
        sqlx::query_as("SELECT number FROM invoices WHERE payment_id = $1")
            .bind(payment_id)
            .fetch_optional(&mut *tx)
            .await?;
    if already.is_some() {
        return Ok(None);
    }
    let year = now.year();
    let (number,): (i64,) = sqlx::query_as(
        "INSERT INTO invoice_counters (organisation_id, year, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (organisation_id, year) DO UPDATE SET last_number = invoice_counters.last_number + 1
         RETURNING last_number",
    )
    .bind(organisation_id)
    .bind(year)
    .fetch_one(&mut *tx)
    .await?;
    let number = format!("{year}-{number:06}");
    let total: Decimal = lines.iter().map(|l| l.amount).sum();
    sqlx::query(
        "INSERT INTO invoices (id, organisation_id, family_id, payment_id, number, issued_at, total, lines)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id)
    .bind(family_id)
    .bind(payment_id)
    .bind(&number)
    .bind(now)
    .bind(total)
    .bind(Json(lines))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(number))
}

pub async fn for_family(pool: &PgPool, family_id: Uuid) -> sqlx::Result<Vec<InvoiceRow>> {
    sqlx::query_as(
        "SELECT id, number, issued_at, total, lines FROM invoices WHERE family_id = $1 ORDER BY issued_at DESC, number DESC",
    )
    .bind(family_id)
    .fetch_all(pool)
    .await
}
