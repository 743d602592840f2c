//! Tariffs by family income bracket: a period's price lists, and each family's quotient
//! familial, which decides its bracket. Prices already booked never move: they are in the
//! events.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{log_change, periods};
use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::domain::tariff::{Bracket, PriceList};

/// A bracket as staff give it: the highest quotient it covers in euros (inclusive), `None` for
/// the open top one.
pub struct NewBracket {
    pub up_to: Option<i64>,
    pub unit_price: Decimal,
}

fn invalid(detail: impl Into<String>) -> AppError {
    AppError::rule("invalid_tariff", detail)
}

fn price_list(effective_from: NaiveDate, brackets: Vec<NewBracket>) -> AppResult<PriceList> {
    let brackets = brackets
        .into_iter()
        .map(|b| {
            let up_to = b
                .up_to
                .map(|q| i32::try_from(q).map_err(|_| invalid("an upper bound is out of range")))
                .transpose()?;
            Ok(Bracket {
                up_to,
                unit_price: b.unit_price,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    PriceList::new(effective_from, brackets).map_err(|e| invalid(e.to_string()))
}

/// Adds a price list to a period, in effect from `effective_from`. Lists are not edited: a
/// change of prices is a new list from a later date.
pub async fn add_price_list(
    cantine: &Cantine,
    caller: &Caller,
    period_id: Uuid,
    effective_from: NaiveDate,
    brackets: Vec<NewBracket>,
) -> AppResult<PriceList> {
    periods::get(cantine, period_id).await?;
    let list = price_list(effective_from, brackets)?;
    if db::tariffs::insert_price_list(&cantine.pool, period_id, &list)
        .await?
        .is_none()
    {
        return Err(AppError::conflict(
            "tariff_exists",
            "this period already has a price list from that date; add one from a later date",
        ));
    }
    log_change(caller, "price list added", period_id);
    Ok(list)
}

/// The period's price lists, oldest first.
pub async fn price_lists(cantine: &Cantine, period_id: Uuid) -> AppResult<Vec<PriceList>> {
    periods::get(cantine, period_id).await?;
    Ok(db::tariffs::price_lists(&cantine.pool, period_id).await?)
}

/// A quotient as stored, or the refusal: checked on its own so that a form that changes other
/// things too (the back office's family form) can refuse before changing anything.
pub fn quotient_value(quotient: Option<i64>) -> AppResult<Option<i32>> {
    quotient
        .map(|q| {
            i32::try_from(q).ok().filter(|q| *q >= 0).ok_or_else(|| {
                AppError::rule(
                    "invalid_quotient",
                    "quotient must be a whole number of euros, zero or more, or null",
                )
            })
        })
        .transpose()
}

/// Sets a family's quotient familial (`None`: unknown, the top price), which decides its
/// bracket in the meals it books from now on; meals already booked keep their price.
pub async fn set_quotient(
    cantine: &Cantine,
    caller: &Caller,
    family_id: Uuid,
    quotient: Option<i32>,
) -> AppResult<()> {
    let now = cantine.clock.now();
    if !db::tariffs::set_quotient(
        &cantine.pool,
        cantine.organisation.id,
        family_id,
        quotient,
        now,
    )
    .await?
    {
        return Err(AppError::not_found("family"));
    }
    log_change(caller, "quotient familial set", family_id);
    Ok(())
}
