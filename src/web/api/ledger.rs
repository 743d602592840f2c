//! A family's account: every charge, credit, payment and refund, with the balance.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::money::money;
use crate::app::Cantine;
use crate::db;
use crate::web::error::ApiResult;
use crate::web::extract::Caller;

#[derive(Serialize, ToSchema)]
pub struct LedgerEntry {
    pub at: DateTime<Utc>,
    /// `invoice`, `credit_note`, `payment` or `refund`
    pub kind: String,
    /// The document's number, or the provider's reference of a payment.
    pub reference: String,
    pub restaurant: String,
    pub label: String,
    /// Signed from the family's side: a charge is negative, a payment or credit positive.
    pub amount: String,
    /// The balance after this entry.
    pub balance: String,
}

#[derive(Serialize, ToSchema)]
pub struct Ledger {
    /// Positive: in the family's favour; negative: what the family owes.
    pub balance: String,
    /// Credit the next payment spends first.
    pub credit: String,
    pub entries: Vec<LedgerEntry>,
}

#[utoipa::path(get, path = "/api/v1/ledger", tag = "payments", responses((status = 200, body = Ledger)))]
pub async fn ledger(State(state): State<Cantine>, caller: Caller) -> ApiResult<Json<Ledger>> {
    let family_id = caller.family()?;
    state.fresh(crate::projections::ledger::NAME).await;
    let rows: Vec<(DateTime<Utc>, String, String, String, String, Decimal)> = sqlx::query_as(
        "SELECT occurred_at, entry, reference, restaurant, label, amount FROM ledger_view
          WHERE family_id = $1 ORDER BY occurred_at, position, line",
    )
    .bind(family_id)
    .fetch_all(&state.pool)
    .await?;
    let mut balance = Decimal::ZERO;
    let entries = rows
        .into_iter()
        .map(|(at, kind, reference, restaurant, label, amount)| {
            balance += amount;
            LedgerEntry {
                at,
                kind,
                reference,
                restaurant,
                label,
                amount: money(amount),
                balance: money(balance),
            }
        })
        .collect();
    let credit = db::payments::available_credit(&state.pool, family_id).await?;
    Ok(Json(Ledger {
        balance: money(balance),
        credit: money(credit.max(Decimal::ZERO)),
        entries,
    }))
}
