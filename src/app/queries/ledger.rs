//! The family's ledger ("relevé de compte"): every charge, credit, payment and refund, each
//! signed from the family's side, with the running balance; and the credit its next payment
//! spends first.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::projections;

/// What an entry of the ledger is. The ledger projection writes these spellings
/// (`projections::ledger`); they are the API's `kind` too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Invoice,
    CreditNote,
    Payment,
    Refund,
}

impl EntryKind {
    pub const ALL: [EntryKind; 4] = [
        EntryKind::Invoice,
        EntryKind::CreditNote,
        EntryKind::Payment,
        EntryKind::Refund,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EntryKind::Invoice => "invoice",
            EntryKind::CreditNote => "credit_note",
            EntryKind::Payment => "payment",
            EntryKind::Refund => "refund",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub kind: EntryKind,
    /// The document's number, or the provider's reference of a payment.
    pub reference: String,
    pub restaurant: String,
    pub label: String,
    /// Signed from the family's side: a charge is negative, a payment or credit positive.
    pub amount: Decimal,
    /// The balance after this entry.
    pub balance: Decimal,
}

#[derive(Debug, Clone)]
pub struct Ledger {
    /// Positive: in the family's favour; negative: what the family owes.
    pub balance: Decimal,
    /// Credit the next payment spends first (never negative).
    pub credit: Decimal,
    pub entries: Vec<Entry>,
}

/// The caller's family's ledger, oldest entry first.
pub async fn ledger(cantine: &Cantine, caller: &Caller) -> AppResult<Ledger> {
    let family_id = caller.family()?;
    cantine.fresh(projections::ledger::NAME).await;
    let rows = db::ledger::family_entries(&cantine.pool, family_id).await?;
    let mut balance = Decimal::ZERO;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let kind = EntryKind::parse(&row.entry).ok_or_else(|| {
            AppError::internal(format!("unknown ledger entry kind `{}`", row.entry))
        })?;
        balance += row.amount;
        entries.push(Entry {
            at: row.occurred_at,
            kind,
            reference: row.reference,
            restaurant: row.restaurant,
            label: row.label,
            amount: row.amount,
            balance,
        });
    }
    let credit = db::payments::available_credit(&cantine.pool, family_id).await?;
    Ok(Ledger {
        balance,
        credit: credit.max(Decimal::ZERO),
        entries,
    })
}

/// The caller's family's invoices and credit notes by number, with their id: the entries that
/// name one link to its printable page.
pub async fn documents(cantine: &Cantine, caller: &Caller) -> AppResult<HashMap<String, Uuid>> {
    let family_id = caller.family()?;
    cantine.fresh(projections::invoices::NAME).await;
    Ok(db::ledger::family_documents(&cantine.pool, family_id)
        .await?
        .into_iter()
        .collect())
}
