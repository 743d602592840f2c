//! A family's invoices and credit notes, as issued.

use uuid::Uuid;

use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::domain::invoice::InvoiceIssued;

/// The caller family's invoices and credit notes, the latest first.
pub async fn of_family(cantine: &Cantine, caller: &Caller) -> AppResult<Vec<InvoiceIssued>> {
    let family_id = caller.family()?;
    cantine.fresh(crate::projections::invoices::NAME).await;
    Ok(db::invoices::of_family(&cantine.pool, family_id).await?)
}

/// One of the caller family's documents; another family's is not found.
pub async fn one(cantine: &Cantine, caller: &Caller, id: Uuid) -> AppResult<InvoiceIssued> {
    of_family(cantine, caller)
        .await?
        .into_iter()
        .find(|i| i.invoice_id == id)
        .ok_or_else(|| AppError::not_found("invoice"))
}
