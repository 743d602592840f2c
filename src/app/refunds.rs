//! A family's credit (avoirs: the balance in its favour that its next payments would spend)
//! paid back by bank transfer, recorded by finance: a `CreditRefunded` event with the staff
//! actor, the credit spent, a refunds row that the month's export and reconciliation count, and
//! the ledger's entry.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::domain::payment::CreditRefunded;
use crate::store;
use crate::store::payments::CreditRefundRefused;

/// A refund as recorded.
pub struct Refund {
    pub id: Uuid,
    pub family_id: Uuid,
    pub amount: Decimal,
    pub reference: String,
    /// The family's credit after it.
    pub credit_left: Decimal,
    pub recorded_at: DateTime<Utc>,
}

/// Pays `amount` of the family's credit back by transfer. Refused (nothing recorded): a zero,
/// negative or sub-cent amount, no transfer reference, an unknown family, more than its credit.
pub async fn refund_credit(
    cantine: &Cantine,
    caller: &Caller,
    family_id: Uuid,
    amount: Decimal,
    reference: &str,
) -> AppResult<Refund> {
    if amount <= Decimal::ZERO || amount.normalize().scale() > 2 {
        return Err(AppError::rule(
            "invalid_amount",
            "the amount is positive, in euros and cents",
        ));
    }
    let reference = reference.trim();
    if reference.is_empty() || reference.chars().count() > 140 {
        return Err(AppError::rule(
            "reference_required",
            "the transfer's reference is required (140 characters at most)",
        ));
    }
    if !db::reference::family_exists(&cantine.pool, cantine.organisation.id, family_id).await? {
        return Err(AppError::not_found("family"));
    }
    let now = cantine.clock.now();
    let refund = CreditRefunded {
        refund_id: Uuid::now_v7(),
        organisation_id: cantine.organisation.id,
        family_id,
        amount,
        reference: reference.to_string(),
        restaurant: String::new(),
        refunded_at: now,
    };
    match store::payments::refund_credit(&cantine.pool, refund, &caller.meta()).await? {
        Ok((refunded, credit_left)) => {
            tracing::info!(refund = %refunded.refund_id, family = %family_id, %amount,
                "credit refunded by transfer");
            Ok(Refund {
                id: refunded.refund_id,
                family_id,
                amount,
                reference: refunded.reference,
                credit_left,
                recorded_at: now,
            })
        }
        Err(CreditRefundRefused::MoreThanCredit(credit)) => Err(AppError::rule(
            "amount_exceeds_credit",
            format!("the family's credit is {credit:.2}: no more can be refunded"),
        )),
    }
}

/// A family with credit to pay back.
pub struct WithCredit {
    pub family_id: Uuid,
    pub family_name: String,
    pub credit: Decimal,
}

/// The families whose credit is positive, by name.
pub async fn families_with_credit(cantine: &Cantine) -> AppResult<Vec<WithCredit>> {
    Ok(
        db::payments::families_with_credit(&cantine.pool, cantine.organisation.id)
            .await?
            .into_iter()
            .map(|(family_id, family_name, credit)| WithCredit {
                family_id,
                family_name,
                credit,
            })
            .collect(),
    )
}
