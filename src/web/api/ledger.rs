//! A family's account: every charge, credit, payment and refund, with the balance.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::money::money;
use crate::app::{queries, Cantine};
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
    let ledger = queries::ledger::ledger(&state, &caller).await?;
    Ok(Json(Ledger {
        balance: money(ledger.balance),
        credit: money(ledger.credit),
        entries: ledger
            .entries
            .into_iter()
            .map(|e| LedgerEntry {
                at: e.at,
                kind: e.kind.as_str().to_string(),
                reference: e.reference,
                restaurant: e.restaurant,
                label: e.label,
                amount: money(e.amount),
                balance: money(e.balance),
            })
            .collect(),
    }))
}
