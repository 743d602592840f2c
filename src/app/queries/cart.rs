//! The cart: the family's reservations awaiting payment and still in time, their total, the
//! family's credit that the next payment spends first, and what is left to pay.

use rust_decimal::Decimal;

use crate::app::{AppResult, Caller, Cantine};
use crate::db;

/// A reservation awaiting payment, still in time.
pub type CartItem = db::payments::AwaitingPayment;

pub struct Cart {
    pub reservations: Vec<CartItem>,
    pub total: Decimal,
    /// The family's credit (cancelled paid days), never below zero.
    pub credit: Decimal,
    /// What the payment provider will be asked for: the total minus the credit.
    pub to_pay: Decimal,
}

pub async fn cart(cantine: &Cantine, caller: &Caller) -> AppResult<Cart> {
    let family_id = caller.family()?;
    cantine.fresh(crate::projections::reservations::NAME).await;
    let rows =
        db::payments::awaiting_payment(&cantine.pool, family_id, cantine.clock.now()).await?;
    let total: Decimal = rows.iter().map(|r| r.total).sum();
    let credit = db::payments::available_credit(&cantine.pool, family_id)
        .await?
        .max(Decimal::ZERO);
    Ok(Cart {
        reservations: rows,
        total,
        credit,
        to_pay: (total - credit).max(Decimal::ZERO),
    })
}
