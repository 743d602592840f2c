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
    self, allocate, decide, Allocation, Decision, Payable, PaymentEvent, PaymentFailed,
    PaymentStarted, PaymentStatus, PaymentSucceeded, RefundDue,
};

pub enum StartOutcome {
    Started(PaymentStarted),
    /// Some reservations are already in a payment the provider has not settled.
    AlreadyPending(Vec<Uuid>),
}

/// Starts a payment of `payables`, spending the family's credit first. The family's row is
/// locked for the transaction, so two payments of one family are started one after the other:
/// neither can spend the same credit or include the same reservation.
pub async fn start(
    pool: &PgPool,
    organisation_id: Uuid,
    family_id: Uuid,
    payables: &[Payable],
    now: DateTime<Utc>,
    meta: &CommandMeta,
) -> anyhow::Result<StartOutcome> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM families WHERE id = $1 FOR UPDATE")
        .bind(family_id)
        .execute(&mut *tx)
        .await?;
    let ids: Vec<Uuid> = payables.iter().map(|p| p.reservation_id).collect();
    let pending: Vec<(Uuid, DateTime<Utc>, Vec<Uuid>)> = sqlx::query_as(
        "SELECT id, created_at, reservation_ids FROM payments
          WHERE family_id = $1 AND status = $3 AND reservation_ids && $2 FOR UPDATE",
    )
    .bind(family_id)
    .bind(&ids)
    .bind(PaymentStatus::Pending.as_str())
    .fetch_all(&mut *tx)
    .await?;
    let (abandoned, live): (Vec<_>, Vec<_>) = pending
        .into_iter()
        .partition(|(_, created_at, _)| *created_at + payment::PROVIDER_SESSION <= now);
    if !live.is_empty() {
        let mut busy: Vec<Uuid> = live
            .into_iter()
            .flat_map(|(_, _, reservations)| reservations)
            .filter(|r| ids.contains(r))
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
    let credit_used: Decimal = allocations.iter().map(|a| a.credit).sum();
    let amount: Decimal = allocations.iter().map(|a| a.cash).sum();
    // Random, not time-ordered: the id is also the key of the payment page.
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO payments (id, family_id, reservation_ids, amount, credit_used, status, created_at, version)
         VALUES ($1, $2, $3, $4, $5, $7, $6, 1)",
    )
    .bind(id)
    .bind(family_id)
    .bind(&ids)
    .bind(amount)
    .bind(credit_used)
    .bind(now)
    .bind(PaymentStatus::Pending.as_str())
    .execute(&mut *tx)
    .await?;
    adjust_credit(&mut tx, family_id, -credit_used).await?;
    let started = PaymentStarted {
        payment_id: id,
        organisation_id,
        family_id,
        allocations,
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
        payment::EVENT_VERSION,
        serde_json::to_value(event)?,
        meta,
    );
    super::append::append(tx, &event).await?;
    Ok(())
}
