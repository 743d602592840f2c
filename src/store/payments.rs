//! Payments: the row that decides which notification still has an effect, and the `Payment`
//! events, stored together in one transaction so that they can never disagree.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::append::NewEvent;
use super::commands::CommandMeta;
use crate::db::payments::{available_credit, PaymentRow, COLUMNS};
use crate::domain::payment::{
    self, allocate, allocate_invoices, decide, Allocation, CreditRefunded, Decision,
    DeskPaymentRecorded, DeskPaymentReversed, InvoiceAllocation, OverpaymentCredited, Payable,
    PayableInvoice, PaymentEvent, PaymentFailed, PaymentStarted, PaymentStatus, PaymentSucceeded,
    RefundDue,
};

pub enum StartOutcome {
    Started(PaymentStarted),
    /// Some reservations are already in a payment the provider has not settled.
    AlreadyPending(Vec<Uuid>),
}

/// Starts a payment of `payables` and `invoices`, spending the family's credit first. The
/// family's row is locked for the transaction, so two payments of one family are started one
/// after the other: neither can spend the same credit or include the same reservation or invoice.
pub async fn start(
    pool: &PgPool,
    organisation_id: Uuid,
    family_id: Uuid,
    payables: &[Payable],
    invoices: &[PayableInvoice],
    now: DateTime<Utc>,
    meta: &CommandMeta,
) -> anyhow::Result<StartOutcome> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM families WHERE id = $1 FOR UPDATE")
        .bind(family_id)
        .execute(&mut *tx)
        .await?;
    let ids: Vec<Uuid> = payables.iter().map(|p| p.reservation_id).collect();
    let invoice_ids: Vec<Uuid> = invoices.iter().map(|i| i.invoice_id).collect();
    let pending: Vec<(Uuid, DateTime<Utc>, Vec<Uuid>)> = sqlx::query_as(
        "SELECT id, created_at, reservation_ids || invoice_ids FROM payments
          WHERE family_id = $1 AND status = $3 AND (reservation_ids && $2 OR invoice_ids && $4)
            FOR UPDATE",
    )
    .bind(family_id)
    .bind(&ids)
    .bind(PaymentStatus::Pending.as_str())
    .bind(&invoice_ids)
    .fetch_all(&mut *tx)
    .await?;
    let (abandoned, live): (Vec<_>, Vec<_>) = pending
        .into_iter()
        .partition(|(_, created_at, _)| *created_at + payment::PROVIDER_SESSION <= now);
    if !live.is_empty() {
        let mut busy: Vec<Uuid> = live
            .into_iter()
            .flat_map(|(_, _, reservations)| reservations)
            .filter(|r| ids.contains(r) || invoice_ids.contains(r))
            .collect();
        busy.sort();
        busy.dedup();
        return Ok(StartOutcome::AlreadyPending(busy));
    }
    for (id, _, _) in abandoned {
        // The payer left the provider's page long ago: that payment is over. Should the
        // provider still report it paid, the success is handled like any late one (refund).
        let current = lock(&mut tx, id).await?.expect("selected above");
        record(
            &mut tx,
            &current,
            PaymentStatus::Failed,
            "abandoned",
            now,
            meta,
        )
        .await?;
        tracing::info!(payment = %id, "pending payment abandoned for a new one");
    }
    let credit = available_credit(&mut *tx, family_id).await?;
    let allocations = allocate(payables, credit);
    let spent: Decimal = allocations.iter().map(|a| a.credit).sum();
    let invoice_allocations = allocate_invoices(invoices, credit - spent);
    let credit_used: Decimal = spent
        + invoice_allocations
            .iter()
            .map(|a| a.credit)
            .sum::<Decimal>();
    let amount: Decimal = allocations.iter().map(|a| a.cash).sum::<Decimal>()
        + invoice_allocations.iter().map(|a| a.cash).sum::<Decimal>();
    // Random, not time-ordered: the id is also the key of the payment page.
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO payments (id, family_id, reservation_ids, amount, credit_used, status, created_at, version, invoice_ids)
         VALUES ($1, $2, $3, $4, $5, $7, $6, 1, $8)",
    )
    .bind(id)
    .bind(family_id)
    .bind(&ids)
    .bind(amount)
    .bind(credit_used)
    .bind(now)
    .bind(PaymentStatus::Pending.as_str())
    .bind(&invoice_ids)
    .execute(&mut *tx)
    .await?;
    adjust_credit(&mut tx, family_id, -credit_used).await?;
    let started = PaymentStarted {
        payment_id: id,
        organisation_id,
        family_id,
        allocations,
        invoices: invoice_allocations,
        amount,
        credit_used,
        started_at: now,
    };
    append(
        &mut tx,
        id,
        1,
        &PaymentEvent::PaymentStarted(started.clone()),
        meta,
    )
    .await?;
    tx.commit().await?;
    Ok(StartOutcome::Started(started))
}

/// Records a provider's outcome, if it still has an effect. Answers the payment after it and
/// what was decided; `None` for an unknown payment.
pub async fn record_outcome(
    pool: &PgPool,
    id: Uuid,
    outcome: PaymentStatus,
    provider_ref: &str,
    now: DateTime<Utc>,
    meta: &CommandMeta,
) -> anyhow::Result<Option<(PaymentRow, Decision)>> {
    let mut tx = pool.begin().await?;
    let Some(current) = lock(&mut tx, id).await? else {
        return Ok(None);
    };
    let decision = decide(current.status(), outcome);
    if let Decision::Record(status) = decision {
        record(&mut tx, &current, status, provider_ref, now, meta).await?;
    }
    let after = lock(&mut tx, id).await?.expect("locked above");
    tx.commit().await?;
    Ok(Some((after, decision)))
}

/// Moves `current` to `status` with its event, in the caller's transaction.
async fn record(
    tx: &mut PgConnection,
    current: &PaymentRow,
    status: PaymentStatus,
    provider_ref: &str,
    now: DateTime<Utc>,
    meta: &CommandMeta,
) -> anyhow::Result<()> {
    let id = current.id;

    let event = match status {
        PaymentStatus::Succeeded => {
            if current.status() == PaymentStatus::Failed {
                // Its credit was released by the failure; the success spends it again.
                adjust_credit(&mut *tx, current.family_id, -current.credit_used).await?;
            }
            PaymentEvent::PaymentSucceeded(PaymentSucceeded {
                provider_ref: provider_ref.to_string(),
                amount: current.amount,
                succeeded_at: now,
            })
        }
        PaymentStatus::Failed | PaymentStatus::Pending => {
            adjust_credit(&mut *tx, current.family_id, current.credit_used).await?;
            PaymentEvent::PaymentFailed(PaymentFailed {
                provider_ref: provider_ref.to_string(),
                failed_at: now,
                credit_released: current.credit_used,
            })
        }
    };
    let (sequence,): (i64,) = sqlx::query_as(
        "UPDATE payments SET status = $2, provider_ref = $3, settled_at = $4, version = version + 1
              WHERE id = $1 RETURNING version",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(provider_ref)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    append(&mut *tx, id, sequence, &event, meta).await?;
    Ok(())
}

/// Records that the money for `allocation` goes back: once per payment and reservation.
pub async fn record_refund(
    pool: &PgPool,
    id: Uuid,
    allocation: &Allocation,
    reason: &str,
    now: DateTime<Utc>,
    meta: &CommandMeta,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await?;
    let Some(current) = lock(&mut tx, id).await? else {
        anyhow::bail!("payment {id} not found");
    };
    let inserted = sqlx::query(
        "INSERT INTO refunds (payment_id, reservation_id, family_id, amount, reason, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(allocation.reservation_id)
    .bind(current.family_id)
    .bind(allocation.cash)
    .bind(reason)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    adjust_credit(&mut tx, current.family_id, allocation.credit).await?;
    let (sequence,): (i64,) =
        sqlx::query_as("UPDATE payments SET version = version + 1 WHERE id = $1 RETURNING version")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    let event = PaymentEvent::RefundDue(RefundDue {
        reservation_id: allocation.reservation_id,
        reservation_number: allocation.reservation_number.clone(),
        restaurant: allocation.restaurant.clone(),
        amount: allocation.cash,
        credit_restored: allocation.credit,
        reason: reason.to_string(),
        recorded_at: now,
    });
    append(&mut tx, id, sequence, &event, meta).await?;
    tx.commit().await?;
    tracing::warn!(payment = %id, reservation = %allocation.reservation_id, amount = %allocation.cash,
        %reason, "refund due: the money arrived for a reservation that cannot be paid");
    Ok(true)
}

/// Keeps as the family's credit what a succeeded payment paid on an invoice beyond what was
/// left on it: once per payment and invoice.
pub async fn record_overpayment(
    pool: &PgPool,
    id: Uuid,
    allocation: &InvoiceAllocation,
    amount: Decimal,
    now: DateTime<Utc>,
    meta: &CommandMeta,
) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await?;
    let Some(current) = lock(&mut tx, id).await? else {
        anyhow::bail!("payment {id} not found");
    };
    let (already,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type = $1 AND aggregate_id = $2
                           AND event_type = 'OverpaymentCredited'
                           AND payload->'OverpaymentCredited'->>'invoice_id' = $3)",
    )
    .bind(payment::AGGREGATE_TYPE)
    .bind(id.to_string())
    .bind(allocation.invoice_id.to_string())
    .fetch_one(&mut *tx)
    .await?;
    if already || amount <= Decimal::ZERO {
        return Ok(false);
    }
    adjust_credit(&mut tx, current.family_id, amount).await?;
    let (sequence,): (i64,) =
        sqlx::query_as("UPDATE payments SET version = version + 1 WHERE id = $1 RETURNING version")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    let event = PaymentEvent::OverpaymentCredited(OverpaymentCredited {
        invoice_id: allocation.invoice_id,
        invoice_number: allocation.invoice_number.clone(),
        amount,
        recorded_at: now,
    });
    append(&mut tx, id, sequence, &event, meta).await?;
    tx.commit().await?;
    tracing::info!(payment = %id, invoice = %allocation.invoice_number, %amount,
        "overpayment kept as the family's credit");
    Ok(true)
}

/// Records a desk payment: its receipt number from the organisation's gapless 'receipt'
/// counter of `year` (held from its increment to the commit, so a failure leaves no hole), its
/// payments row, settled, the credit it leaves, and its event, in one transaction. Answers the
/// event as recorded.
pub async fn record_desk(
    pool: &PgPool,
    mut recorded: DeskPaymentRecorded,
    year: i32,
    meta: &CommandMeta,
) -> anyhow::Result<DeskPaymentRecorded> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM families WHERE id = $1 FOR UPDATE")
        .bind(recorded.family_id)
        .execute(&mut *tx)
        .await?;
    let (sequence,): (i64,) = sqlx::query_as(
        "INSERT INTO invoice_counters (organisation_id, series, year, last_number)
         VALUES ($1, 'receipt', $2, 1)
         ON CONFLICT (organisation_id, series, year)
            DO UPDATE SET last_number = invoice_counters.last_number + 1
         RETURNING last_number",
    )
    .bind(recorded.organisation_id)
    .bind(year)
    .fetch_one(&mut *tx)
    .await?;
    recorded.receipt_number = format!("RC-{year}-{sequence:06}");
    let invoice_ids: Vec<Uuid> = recorded.invoices.iter().map(|i| i.invoice_id).collect();
    sqlx::query(
        "INSERT INTO payments (id, family_id, reservation_ids, amount, credit_used, status, created_at,
                               settled_at, version, invoice_ids, provider_ref, method,
                               receipt_number, credit_kept)
         VALUES ($1, $2, '{}', $3, 0, $4, $5, $5, 1, $6, $7, $8, $7, $9)",
    )
    .bind(recorded.payment_id)
    .bind(recorded.family_id)
    .bind(recorded.amount)
    .bind(PaymentStatus::Succeeded.as_str())
    .bind(recorded.recorded_at)
    .bind(&invoice_ids)
    .bind(&recorded.receipt_number)
    .bind(recorded.method.as_str())
    .bind(recorded.credit_kept)
    .execute(&mut *tx)
    .await?;
    adjust_credit(&mut tx, recorded.family_id, recorded.credit_kept).await?;
    append(
        &mut tx,
        recorded.payment_id,
        1,
        &PaymentEvent::DeskPaymentRecorded(recorded.clone()),
        meta,
    )
    .await?;
    tx.commit().await?;
    Ok(recorded)
}

/// Why a family's credit is not paid back.
#[derive(Debug, PartialEq)]
pub enum CreditRefundRefused {
    /// More than the family's credit: what it has.
    MoreThanCredit(Decimal),
}

/// Pays back part or all of a family's credit by bank transfer: the refunds row, the credit
/// spent and the `CreditRefunded` event, in one transaction with the family's row locked (so
/// that a payment cannot spend the same credit meanwhile).
pub async fn refund_credit(
    pool: &PgPool,
    mut refund: CreditRefunded,
    meta: &CommandMeta,
) -> anyhow::Result<Result<(CreditRefunded, Decimal), CreditRefundRefused>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM families WHERE id = $1 FOR UPDATE")
        .bind(refund.family_id)
        .execute(&mut *tx)
        .await?;
    let credit = available_credit(&mut *tx, refund.family_id).await?;
    if refund.amount > credit {
        return Ok(Err(CreditRefundRefused::MoreThanCredit(credit)));
    }
    // The ledger books it to the restaurant of the family's latest credit.
    let restaurant: Option<String> = sqlx::query_scalar(
        "SELECT restaurant FROM ledger_view WHERE family_id = $1 AND amount > 0
          ORDER BY occurred_at DESC LIMIT 1",
    )
    .bind(refund.family_id)
    .fetch_optional(&mut *tx)
    .await?;
    refund.restaurant = restaurant.unwrap_or_else(|| "Remboursements".to_string());
    sqlx::query(
        "INSERT INTO refunds (id, family_id, amount, reason, recorded_at, method, reference)
         VALUES ($1, $2, $3, 'credit_refund', $4, 'transfer', $5)",
    )
    .bind(refund.refund_id)
    .bind(refund.family_id)
    .bind(refund.amount)
    .bind(refund.refunded_at)
    .bind(&refund.reference)
    .execute(&mut *tx)
    .await?;
    adjust_credit(&mut tx, refund.family_id, -refund.amount).await?;
    append(
        &mut tx,
        refund.refund_id,
        1,
        &PaymentEvent::CreditRefunded(refund.clone()),
        meta,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok((refund.clone(), credit - refund.amount)))
}

/// Why a desk payment cannot be reversed.
#[derive(Debug, PartialEq, Eq)]
pub enum ReversalRefused {
    NotFound,
    AlreadyReversed,
}

/// Reverses a desk payment entered by mistake: the row says when, the credit it left is taken
/// back, and the reversal is an event. Once only.
pub async fn reverse_desk(
    pool: &PgPool,
    organisation_id: Uuid,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
    meta: &CommandMeta,
) -> anyhow::Result<Result<DeskPaymentReversed, ReversalRefused>> {
    let mut tx = pool.begin().await?;
    let row: Option<(Uuid, Option<DateTime<Utc>>, i64)> = sqlx::query_as(
        "SELECT p.family_id, p.reversed_at, p.version FROM payments p
           JOIN families f ON f.id = p.family_id
          WHERE p.id = $1 AND f.organisation_id = $2 AND p.method <> 'online' FOR UPDATE OF p",
    )
    .bind(id)
    .bind(organisation_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((_, reversed_at, version)) = row else {
        return Ok(Err(ReversalRefused::NotFound));
    };
    if reversed_at.is_some() {
        return Ok(Err(ReversalRefused::AlreadyReversed));
    }
    let (payload,): (serde_json::Value,) = sqlx::query_as(
        "SELECT payload FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = 1",
    )
    .bind(payment::AGGREGATE_TYPE)
    .bind(id.to_string())
    .fetch_one(&mut *tx)
    .await?;
    let PaymentEvent::DeskPaymentRecorded(recorded) = serde_json::from_value(payload)? else {
        return Ok(Err(ReversalRefused::NotFound));
    };
    sqlx::query("UPDATE payments SET reversed_at = $2, version = version + 1 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    adjust_credit(&mut tx, recorded.family_id, -recorded.credit_kept).await?;
    let reversed = DeskPaymentReversed {
        payment_id: id,
        organisation_id: recorded.organisation_id,
        family_id: recorded.family_id,
        receipt_number: recorded.receipt_number,
        reason: reason.to_string(),
        invoices: recorded.invoices,
        credit_taken_back: recorded.credit_kept,
        restaurant: recorded.restaurant,
        reversed_at: now,
    };
    append(
        &mut tx,
        id,
        version + 1,
        &PaymentEvent::DeskPaymentReversed(reversed.clone()),
        meta,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(reversed))
}

async fn lock(tx: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payments WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(tx)
    .await
}

async fn adjust_credit(tx: &mut PgConnection, family_id: Uuid, by: Decimal) -> sqlx::Result<()> {
    if by.is_zero() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO family_credits (family_id, available) VALUES ($1, $2)
         ON CONFLICT (family_id) DO UPDATE SET available = family_credits.available + $2",
    )
    .bind(family_id)
    .bind(by)
    .execute(tx)
    .await?;
    Ok(())
}

/// The payment's event, through the store's one append, in the caller's transaction.
async fn append(
    tx: &mut PgConnection,
    id: Uuid,
    sequence: i64,
    event: &PaymentEvent,
    meta: &CommandMeta,
) -> anyhow::Result<()> {
    let event = NewEvent::new(
        payment::AGGREGATE_TYPE,
        id,
        sequence,
        event.event_type(),
        event.event_version(),
        serde_json::to_value(event)?,
        meta,
    );
    super::append::append(tx, &event).await?;
    Ok(())
}
