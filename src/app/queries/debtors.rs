//! Unpaid invoices followed up: the families that owe on monthly invoices, with each invoice's
//! age (days since it was issued, by the service's clock) and what is left on it, for the
//! finance office's list and its CSV; the reminders are sent from the same list
//! (`app::jobs::reminders`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::app::{AppResult, Cantine};
use crate::db;

/// One unpaid invoice.
#[derive(Debug, Clone)]
pub struct Unpaid {
    pub invoice_id: Uuid,
    pub number: String,
    pub month: Option<String>,
    pub issued_at: DateTime<Utc>,
    /// Whole days since it was issued.
    pub age_days: i64,
    pub total: Decimal,
    pub paid: Decimal,
    pub due: Decimal,
    /// Its direct debit was rejected by the family's bank: the reason code, its words, when.
    pub sepa_rejection: Option<SepaRejection>,
}

#[derive(Debug, Clone)]
pub struct SepaRejection {
    pub code: String,
    pub reason: &'static str,
    pub rejected_at: DateTime<Utc>,
}

/// A family that owes, its oldest invoice first.
#[derive(Debug, Clone)]
pub struct Debtor {
    pub family_id: Uuid,
    pub family_name: String,
    pub due: Decimal,
    /// The age of its oldest unpaid invoice.
    pub age_days: i64,
    pub invoices: Vec<Unpaid>,
}

/// The families that owe on monthly invoices (one family's, with `family_id`), by name.
pub async fn debtors(cantine: &Cantine, family_id: Option<Uuid>) -> AppResult<Vec<Debtor>> {
    cantine.fresh(crate::projections::invoices::NAME).await;
    let now = cantine.clock.now();
    let rows =
        db::finance::unpaid_invoices(&cantine.pool, cantine.organisation.id, family_id).await?;
    let mut debtors: Vec<Debtor> = Vec::new();
    for row in rows {
        let unpaid = Unpaid {
            invoice_id: row.invoice_id,
            number: row.number,
            month: row.month,
            issued_at: row.issued_at,
            age_days: (now - row.issued_at).num_days().max(0),
            total: row.total,
            paid: row.paid,
            due: row.total - row.paid,
            sepa_rejection: None,
        };
        match debtors.last_mut() {
            Some(last) if last.family_id == row.family_id => {
                last.due += unpaid.due;
                last.age_days = last.age_days.max(unpaid.age_days);
                last.invoices.push(unpaid);
            }
            _ => debtors.push(Debtor {
                family_id: row.family_id,
                family_name: row.family_name,
                due: unpaid.due,
                age_days: unpaid.age_days,
                invoices: vec![unpaid],
            }),
        }
    }
    let ids: Vec<Uuid> = debtors
        .iter()
        .flat_map(|d| d.invoices.iter().map(|i| i.invoice_id))
        .collect();
    if !ids.is_empty() {
        let rejections = db::sepa::rejections_of(&cantine.pool, &ids).await?;
        for invoice in debtors.iter_mut().flat_map(|d| d.invoices.iter_mut()) {
            if let Some((_, code, at)) = rejections.iter().find(|r| r.0 == invoice.invoice_id) {
                invoice.sepa_rejection = Some(SepaRejection {
                    code: code.clone(),
                    reason: crate::domain::sepa::reason_label(code).unwrap_or(""),
                    rejected_at: *at,
                });
            }
        }
    }
    Ok(debtors)
}
