//! Payments at the finance desk: a cheque (its number and bank), cash or a bank transfer,
//! recorded by a finance staff member against one or several of a family's invoices. Each is a
//! `DeskPaymentRecorded` event with the staff actor and a receipt number (`RC-2027-000001`,
//! gapless per organisation and year); what it pays beyond the invoices is kept as credit. A
//! mistaken entry is reversed by a `DeskPaymentReversed` event, never deleted. They are payments
//! rows too, so the month's exports and reconciliation count them.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Europe::Paris;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::app::payments::settlements;
use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::domain::invoice::InvoiceKind;
use crate::domain::payment::{allocate_desk, DeskMethod, DeskPaymentRecorded, PayableInvoice};
use crate::store;
use crate::store::payments::ReversalRefused;

/// What finance typed at the desk.
pub struct DeskPayment<'a> {
    pub family_id: Uuid,
    pub method: &'a str,
    pub amount: Decimal,
    pub invoice_ids: &'a [Uuid],
    pub reference: &'a str,
}

/// A desk payment as recorded.
pub struct Receipt {
    pub id: Uuid,
    pub receipt_number: String,
    pub amount: Decimal,
    /// What it paid beyond the invoices, kept as the family's credit.
    pub credit_kept: Decimal,
    pub recorded_at: DateTime<Utc>,
}

/// Records a payment received at the desk. Everything is checked before anything is written.
pub async fn record(
    cantine: &Cantine,
    caller: &Caller,
    payment: DeskPayment<'_>,
) -> AppResult<Receipt> {
    let method = DeskMethod::parse(payment.method).ok_or_else(|| {
        AppError::rule(
            "invalid_method",
            "the method is one of cheque, cash or transfer",
        )
    })?;
    if payment.amount <= Decimal::ZERO || payment.amount.scale() > 2 {
        return Err(AppError::rule(
            "invalid_amount",
            "the amount is positive, in euros and cents",
        ));
    }
    let reference = payment.reference.trim();
    if method.needs_reference() && reference.is_empty() {
        return Err(AppError::rule(
            "reference_required",
            "a cheque needs its number and bank, a transfer its reference",
        ));
    }
    if db::reference::family(&cantine.pool, payment.family_id)
        .await?
        .is_none()
    {
        return Err(AppError::not_found("family"));
    }
    let unique: BTreeSet<Uuid> = payment.invoice_ids.iter().copied().collect();
    if unique.len() != payment.invoice_ids.len() {
        return Err(AppError::rule(
            "duplicate_invoices",
            "an invoice is listed twice",
        ));
    }
    let settled = settlements(cantine, payment.family_id).await?;
    let invoices = payment
        .invoice_ids
        .iter()
        .map(|id| {
            let (invoice, settlement) = settled
                .iter()
                .find(|(i, _)| i.invoice_id == *id)
                .ok_or_else(|| AppError::not_found("invoice"))?;
            if invoice.kind != InvoiceKind::Monthly || settlement.due <= Decimal::ZERO {
                return Err(AppError::conflict(
                    "invoice_paid",
                    format!("invoice {} has nothing left to pay", invoice.number),
                ));
            }
            Ok(PayableInvoice {
                invoice_id: invoice.invoice_id,
                invoice_number: invoice.number.clone(),
                restaurant: invoice
                    .lines
                    .first()
                    .map(|l| l.restaurant.clone())
                    .unwrap_or_default(),
                due: settlement.due,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let (allocations, credit_kept) = allocate_desk(payment.amount, &invoices);
    let restaurant = invoices
        .first()
        .map(|i| i.restaurant.clone())
        .unwrap_or_else(|| "Encaissements sans facture".to_string());
    let now = cantine.clock.now();
    let recorded = store::payments::record_desk(
        &cantine.pool,
        DeskPaymentRecorded {
            payment_id: Uuid::now_v7(),
            organisation_id: cantine.organisation.id,
            family_id: payment.family_id,
            method,
            amount: payment.amount,
            reference: reference.to_string(),
            receipt_number: String::new(),
            invoices: allocations,
            credit_kept,
            restaurant,
            recorded_at: now,
        },
        now.with_timezone(&Paris).year(),
        &caller.meta(),
    )
    .await?;
    tracing::info!(payment = %recorded.payment_id, receipt = %recorded.receipt_number,
        method = method.as_str(), amount = %recorded.amount, "desk payment recorded");
    Ok(Receipt {
        id: recorded.payment_id,
        receipt_number: recorded.receipt_number,
        amount: recorded.amount,
        credit_kept: recorded.credit_kept,
        recorded_at: recorded.recorded_at,
    })
}

/// Reverses a desk payment entered by mistake (with the reason): the invoices it paid are due
/// again, the credit it left is taken back.
pub async fn reverse(
    cantine: &Cantine,
    caller: &Caller,
    id: Uuid,
    reason: &str,
) -> AppResult<(String, DateTime<Utc>)> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::rule(
            "reason_required",
            "say why the payment is reversed",
        ));
    }
    match store::payments::reverse_desk(
        &cantine.pool,
        cantine.organisation.id,
        id,
        reason,
        cantine.clock.now(),
        &caller.meta(),
    )
    .await?
    {
        Ok(reversed) => Ok((reversed.receipt_number, reversed.reversed_at)),
        Err(ReversalRefused::NotFound) => Err(AppError::not_found("desk payment")),
        Err(ReversalRefused::AlreadyReversed) => Err(AppError::conflict(
            "already_reversed",
            "this payment was already reversed",
        )),
    }
}
