//! The ledger projection (`ledger_view`) as families read it: each entry signed from the
//! family's side, in the order it happened; and the documents its entries name.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

/// One line of `ledger_view`; `entry` is the projection's kind (`invoice`, `credit_note`,
/// `payment`, `refund`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LedgerRow {
    pub occurred_at: DateTime<Utc>,
    pub entry: String,
    pub reference: String,
    pub restaurant: String,
    pub label: String,
    pub amount: Decimal,
}

/// The family's entries, oldest first (the order the running balance adds them in).
pub async fn family_entries(pool: &PgPool, family_id: Uuid) -> sqlx::Result<Vec<LedgerRow>> {
    sqlx::query_as(
        "SELECT occurred_at, entry, reference, restaurant, label, amount FROM ledger_view
          WHERE family_id = $1 ORDER BY occurred_at, position, line",
    )
    .bind(family_id)
    .fetch_all(pool)
    .await
}

/// The family's invoices and credit notes by number, with their id (their printable page).
pub async fn family_documents(pool: &PgPool, family_id: Uuid) -> sqlx::Result<Vec<(String, Uuid)>> {
    sqlx::query_as("SELECT number, id FROM invoice_view WHERE family_id = $1")
        .bind(family_id)
        .fetch_all(pool)
        .await
}
