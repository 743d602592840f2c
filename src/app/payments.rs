//! Payments: the family pays reservations awaiting payment (its credit spent first), the
//! provider's signed notification settles the payment, and a success pays each reservation and
//! issues the invoice (or records a refund for a reservation that can no longer be paid).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::app::invoicing;
use crate::app::payment_provider::{Checkout, ProviderNotification, Rejected};
use crate::app::{AppError, AppResult, Caller, Cantine, Refusal};
use crate::db;
use crate::db::payments::PaymentRow;
use crate::domain::invoice::{InvoiceDraft, InvoiceIssued, InvoiceKind};
use crate::domain::payment::{overpayment, Decision, Payable, PayableInvoice, PaymentStatus};
use crate::domain::reservation::{format_number, Actor, ErrorKind, ReservationCommand};
use crate::store;
use crate::store::commands::{CommandError, CommandMeta};
use crate::store::payments::StartOutcome;

/// A payment just started.
pub struct Started {
    pub id: Uuid,
    /// What the provider is asked for: the reservations' total minus the credit used.
    pub amount: Decimal,
    pub credit_used: Decimal,
    /// `Pending`; `Succeeded` at once when the credit pays everything.
    pub status: PaymentStatus,
    /// The provider's page.
    pub redirect_url: String,
}

/// A payment as it stands.
pub struct PaymentState {
    pub id: Uuid,
    pub status: PaymentStatus,
    pub amount: Decimal,
    pub credit_used: Decimal,
    pub invoice_numbers: Vec<String>,
    /// Reservations this payment could not pay, whose money goes back, with the reason
    /// (`places_gone`, `already_cancelled`, `already_paid`, …).
    pub refunds: Vec<(Uuid, String)>,
}

/// Starts one payment of the caller family's `reservation_ids`.
pub async fn start(
    cantine: &Cantine,
    caller: &Caller,
    reservation_ids: &[Uuid],
) -> AppResult<Started> {
    start_with_invoices(cantine, caller, reservation_ids, &[]).await
}

/// Starts one payment of the caller family's `reservation_ids` and of what is left to pay on
/// its (billed-later) `invoice_ids`: the family's credit first, the provider for the rest.
pub async fn start_with_invoices(
    cantine: &Cantine,
    caller: &Caller,
    reservation_ids: &[Uuid],
    invoice_ids: &[Uuid],
) -> AppResult<Started> {
    let family_id = caller.family()?;
    if reservation_ids.is_empty() && invoice_ids.is_empty() {
        return Err(AppError::rule(
            "no_reservations",
            "choose at least one reservation or invoice to pay",
        ));
    }
    let invoices = payable_invoices(cantine, family_id, invoice_ids).await?;
    let unique: BTreeSet<Uuid> = reservation_ids.iter().copied().collect();
    if unique.len() != reservation_ids.len() {
        return Err(AppError::rule(
            "duplicate_reservations",
            "a reservation is listed twice",
        ));
    }
    let now = cantine.clock.now();
    let mut payables = Vec::with_capacity(reservation_ids.len());
    for id in reservation_ids {
        let reservation = cantine.commands.load(*id).await?;
        let total = reservation.payable_amount(Actor::Family(family_id), now)?;
        let requested = reservation
            .requested
            .as_ref()
            .expect("payable, so requested");
        payables.push(Payable {
            reservation_id: *id,
            reservation_number: format_number(requested.number),
            restaurant: requested.restaurant.name.clone(),
            total,
        });
    }
    let started = match store::payments::start(
        &cantine.pool,
        cantine.organisation.id,
        family_id,
        &payables,
        &invoices,
        now,
        &caller.meta(),
    )
    .await?
    {
        StartOutcome::Started(started) => started,
        StartOutcome::AlreadyPending(pending) => {
            return Err(AppError::conflict(
                "payment_pending",
                format!("already in a payment being processed: {pending:?}"),
            ))
        }
    };
    let id = started.payment_id;
    let mut status = PaymentStatus::Pending;
    if started.amount.is_zero() {
        // The credit pays it all: there is nothing to ask the provider.
        let settled = settle(
            cantine,
            id,
            ProviderNotification {
                payment_id: id,
                status: PaymentStatus::Succeeded.as_str().into(),
                amount: Decimal::ZERO,
                provider_ref: "credit".into(),
            },
            &caller.request_id,
        )
        .await?;
        status = settled.status;
    }
    Ok(Started {
        id,
        amount: started.amount,
        credit_used: started.credit_used,
        status,
        redirect_url: checkout_url(cantine, id, started.amount),
    })
}

/// The family's invoices to pay, with what is left on each: another family's is not found, a
/// document that is not a monthly invoice or has nothing left to pay is refused.
async fn payable_invoices(
    cantine: &Cantine,
    family_id: Uuid,
    invoice_ids: &[Uuid],
) -> AppResult<Vec<PayableInvoice>> {
    if invoice_ids.is_empty() {
        return Ok(Vec::new());
    }
    let unique: BTreeSet<Uuid> = invoice_ids.iter().copied().collect();
    if unique.len() != invoice_ids.len() {
        return Err(AppError::rule(
            "duplicate_invoices",
            "an invoice is listed twice",
        ));
    }
    let settled = settlements(cantine, family_id).await?;
    invoice_ids
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
        .collect()
}

/// How much of a document is paid and what is left to pay on it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settlement {
    pub paid: Decimal,
    pub due: Decimal,
}

/// The family's documents as issued (latest first), each with what is paid and left on it: a
/// prepaid invoice was paid by its payment; a monthly invoice by the succeeded payments that
/// name it (never more than its total: the rest was kept as credit); a credit note owes nothing.
pub async fn settlements(
    cantine: &Cantine,
    family_id: Uuid,
) -> AppResult<Vec<(InvoiceIssued, Settlement)>> {
    cantine.fresh(crate::projections::invoices::NAME).await;
    let documents = db::invoices::of_family(&cantine.pool, family_id).await?;
    let paid = db::payments::paid_on_invoices(&cantine.pool, family_id, None).await?;
    Ok(documents
        .into_iter()
        .map(|document| {
            let settlement = match document.kind {
                InvoiceKind::Payment => Settlement {
                    paid: document.total,
                    due: Decimal::ZERO,
                },
                InvoiceKind::CreditNote => Settlement {
                    paid: Decimal::ZERO,
                    due: Decimal::ZERO,
                },
                InvoiceKind::Monthly => {
                    let gross = paid
                        .iter()
                        .find(|(id, _)| *id == document.invoice_id)
                        .map(|(_, amount)| *amount)
                        .unwrap_or_default();
                    let paid = gross.min(document.total);
                    Settlement {
                        paid,
                        due: document.total - paid,
                    }
                }
            };
            (document, settlement)
        })
        .collect())
}

/// Takes the provider's notification as its port verified it: refused when it is not the
/// provider's, settled otherwise.
pub async fn receive(
    cantine: &Cantine,
    id: Uuid,
    verified: Result<ProviderNotification, Rejected>,
    request_id: &str,
) -> AppResult<PaymentState> {
    let notification = verified.map_err(|rejected| match rejected {
        Rejected::Signature => {
            tracing::warn!(payment = %id, provider = cantine.payment_provider.name(),
                "payment notification with a wrong signature refused");
            AppError::refused(
                Refusal::Unauthenticated,
                "invalid_signature",
                "the notification's signature is wrong",
            )
        }
        Rejected::Malformed(detail) => AppError::bad_input("malformed_body", detail),
    })?;
    if notification.payment_id != id {
        tracing::warn!(payment = %id, named = %notification.payment_id,
            "payment notification refused: it names another payment");
        return Err(AppError::rule(
            "payment_mismatch",
            "the notification names another payment than the one it was posted to",
        ));
    }
    settle(cantine, id, notification, request_id).await
}

/// Applies a notification; repeating it changes nothing more.
pub async fn settle(
    cantine: &Cantine,
    id: Uuid,
    notification: ProviderNotification,
    request_id: &str,
) -> AppResult<PaymentState> {
    let outcome = match PaymentStatus::parse(&notification.status) {
        Some(status @ (PaymentStatus::Succeeded | PaymentStatus::Failed)) => status,
        _ => {
            return Err(AppError::bad_input(
                "malformed_body",
                format!("unknown status {}", notification.status),
            ))
        }
    };
    let payment = db::payments::payment(&cantine.pool, id)
        .await?
        .ok_or_else(|| AppError::not_found("payment"))?;
    if outcome == PaymentStatus::Succeeded && notification.amount != payment.amount {
        tracing::warn!(payment = %id, notified = %notification.amount, expected = %payment.amount,
            "payment notification refused: amount differs");
        return Err(AppError::rule(
            "amount_mismatch",
            format!(
                "the notified amount {} differs from the payment's {}",
                notification.amount, payment.amount
            ),
        ));
    }
    if let Some(other) =
        db::payments::payment_with_provider_ref(&cantine.pool, &notification.provider_ref, id)
            .await?
    {
        tracing::warn!(payment = %id, %other, "payment notification refused: its provider reference settled another payment");
        return Err(AppError::conflict(
            "provider_ref_reused",
            "this provider reference belongs to another payment",
        ));
    }
    let meta = CommandMeta {
        actor_id: None,
        actor_role: "payment_provider".into(),
        request_id: request_id.to_string(),
    };
    let (payment, decision) = store::payments::record_outcome(
        &cantine.pool,
        id,
        outcome,
        &notification.provider_ref,
        cantine.clock.now(),
        &meta,
    )
    .await?
    .ok_or_else(|| AppError::not_found("payment"))?;
    if decision == Decision::IgnoreLateFailure {
        tracing::warn!(payment = %id, provider_ref = %notification.provider_ref,
            "a failure notified after the payment succeeded is ignored: the money is in");
    }
    if payment.status() == PaymentStatus::Succeeded {
        // Done on every succeeded notification, and idempotent: a retry after a crash half-way
        // finishes the work instead of skipping it.
        complete_success(cantine, &payment, &meta).await?;
    }
    payment_state(cantine, &payment).await
}

/// Pays each reservation of a succeeded payment, records a refund for those that can no longer
/// be paid, and issues the invoice of the others.
async fn complete_success(
    cantine: &Cantine,
    payment: &PaymentRow,
    meta: &CommandMeta,
) -> AppResult<()> {
    let allocations = db::payments::allocations(&cantine.pool, payment.id).await?;
    let mut lines = Vec::new();
    for allocation in &allocations {
        let command = ReservationCommand::Pay {
            actor: Actor::System,
            payment_id: payment.id,
            amount: allocation.total,
        };
        // Paying first and looking only on a refusal: a retried notification finds the
        // reservation already paid by this payment, and every first one saves a read.
        let paid = match cantine
            .commands
            .execute(allocation.reservation_id, command, meta)
            .await
        {
            Ok(reservation) => reservation,
            Err(CommandError::Refused(refusal)) if refusal.kind() != ErrorKind::Internal => {
                let current = cantine.commands.load(allocation.reservation_id).await?;
                if current.paid_by == Some(payment.id) {
                    current
                } else {
                    store::payments::record_refund(
                        &cantine.pool,
                        payment.id,
                        allocation,
                        refusal.code(),
                        cantine.clock.now(),
                        meta,
                    )
                    .await?;
                    continue;
                }
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(requested) = &paid.requested {
            let days: Vec<(NaiveDate, Decimal)> =
                paid.active_days().map(|d| (d.date, d.unit_price)).collect();
            lines.extend(invoicing::reservation_lines(
                allocation.reservation_id,
                requested,
                &days,
            ));
        }
    }
    // Invoices paid: what arrived beyond what was left on one is kept as credit.
    let invoices = db::payments::invoice_allocations(&cantine.pool, payment.id).await?;
    if !invoices.is_empty() {
        let paid_before =
            db::payments::paid_on_invoices(&cantine.pool, payment.family_id, Some(payment.id))
                .await?;
        for allocation in &invoices {
            let Some(document) =
                db::invoices::document(&cantine.pool, allocation.invoice_id).await?
            else {
                continue;
            };
            let before = paid_before
                .iter()
                .find(|(id, _)| *id == allocation.invoice_id)
                .map(|(_, amount)| *amount)
                .unwrap_or_default();
            let kept = overpayment(document.total, before, allocation.credit + allocation.cash);
            if kept > Decimal::ZERO {
                store::payments::record_overpayment(
                    &cantine.pool,
                    payment.id,
                    allocation,
                    kept,
                    cantine.clock.now(),
                    meta,
                )
                .await?;
            }
        }
    }
    if !lines.is_empty() {
        let draft = InvoiceDraft {
            invoice_id: Uuid::now_v7(),
            issuer: invoicing::issuer(&cantine.organisation),
            family_id: payment.family_id,
            family_name: invoicing::family_name(&cantine.pool, payment.family_id).await?,
            kind: InvoiceKind::Payment,
            payment_id: Some(payment.id),
            month: None,
            lines,
        };
        invoicing::issue_once(
            &cantine.pool,
            cantine.clock.as_ref(),
            &invoicing::payment_key(payment.id),
            draft,
            &meta.request_id,
        )
        .await?;
    }
    Ok(())
}

async fn payment_state(cantine: &Cantine, payment: &PaymentRow) -> AppResult<PaymentState> {
    let invoice_numbers = db::invoices::numbers_with_key(
        &cantine.pool,
        cantine.organisation.id,
        &invoicing::payment_key(payment.id),
    )
    .await?;
    let refunds = db::payments::refunds(&cantine.pool, payment.id).await?;
    Ok(PaymentState {
        id: payment.id,
        status: payment.status(),
        amount: payment.amount,
        credit_used: payment.credit_used,
        invoice_numbers,
        refunds,
    })
}

/// A payment started and not settled, whose provider page the family may take up again (the
/// tab was closed, say).
pub struct InProgress {
    pub id: Uuid,
    pub amount: Decimal,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// The provider's page of this payment.
    pub redirect_url: String,
}

/// The caller family's payments in progress, the newest first.
pub async fn in_progress(cantine: &Cantine, caller: &Caller) -> AppResult<Vec<InProgress>> {
    let family_id = caller.family()?;
    let rows = db::payments::live_pending(&cantine.pool, family_id, cantine.clock.now()).await?;
    Ok(rows
        .into_iter()
        .map(|(id, amount, started_at)| InProgress {
            id,
            amount,
            started_at,
            redirect_url: checkout_url(cantine, id, amount),
        })
        .collect())
}

fn checkout_url(cantine: &Cantine, id: Uuid, amount: Decimal) -> String {
    cantine.payment_provider.checkout_url(&Checkout {
        payment_id: id,
        amount,
        return_url: format!("{}/api/v1/payments/{id}", cantine.public_url),
        notify_url: format!("{}/api/v1/payments/{id}/notify", cantine.public_url),
    })
}

/// A payment of the caller family's, as it stands; another family's is not found.
pub async fn show(cantine: &Cantine, caller: &Caller, id: Uuid) -> AppResult<PaymentState> {
    let family_id = caller.family()?;
    let payment = db::payments::payment(&cantine.pool, id)
        .await?
        .filter(|p| p.family_id == family_id)
        .ok_or_else(|| AppError::not_found("payment"))?;
    payment_state(cantine, &payment).await
}

/// The payment the built-in simulator's page shows; its pages exist only with the simulator.
pub async fn simulated(cantine: &Cantine, id: Uuid) -> AppResult<PaymentRow> {
    if cantine.simulator.is_none() {
        return Err(AppError::not_found("payment page"));
    }
    db::payments::payment(&cantine.pool, id)
        .await?
        .ok_or_else(|| AppError::not_found("payment"))
}

/// The simulator's notification of `outcome` for payment `id`, signed as a provider signs it:
/// the raw body and its signature, to hand in through the same door as a real provider's.
pub async fn simulate(
    cantine: &Cantine,
    id: Uuid,
    outcome: String,
) -> AppResult<(Vec<u8>, String)> {
    let Some(simulator) = cantine.simulator.clone() else {
        return Err(AppError::not_found("payment page"));
    };
    let payment = db::payments::payment(&cantine.pool, id)
        .await?
        .ok_or_else(|| AppError::not_found("payment"))?;
    Ok(simulator.notification(&ProviderNotification {
        payment_id: id,
        status: outcome,
        amount: payment.amount,
        provider_ref: format!("simulator-{}", Uuid::new_v4()),
    }))
}
