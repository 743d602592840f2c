//! An invoice's one event, appended with its gapless number and the key that makes it issued
//! once.

use sqlx::PgPool;

use super::append::NewEvent;
use super::commands::CommandMeta;
use crate::domain::invoice::{self, InvoiceIssued, InvoiceKind};

/// Appends `issued` (its number still empty) unless an invoice with `key` exists; answers the
/// number the counter gave it, or `None` when the key was taken.
///
/// One statement, committed on its own: the key that makes the invoice issued once, the next
/// number of the gapless counter, the event carrying it, and for a credit note the family's
/// spendable credit. The counter row is held from its increment to the commit, so every
/// invoice of the town queues on it: held for one statement rather than a transaction's round
/// trips, and not through the WAL flush (the statement commits without waiting for it, and
/// [`flush_barrier`] waits after the lock is gone: the caller hears of the invoice only once it
/// is durable, and the WAL being written in order, no later number can survive a crash that
/// loses this one).
pub async fn append_numbered(
    pool: &PgPool,
    key: &str,
    issued: &InvoiceIssued,
    year: i32,
    meta: &CommandMeta,
) -> anyhow::Result<Option<String>> {
    let kind = issued.kind;
    // The event is $1 to $7, as in every append; its number is set from the counter.
    let event = NewEvent::new(
        invoice::AGGREGATE_TYPE,
        issued.invoice_id,
        1,
        invoice::EVENT_TYPE,
        invoice::EVENT_VERSION,
        serde_json::to_value(issued)?,
        meta,
    );
    let number: Option<String> = event
        .bind_scalar(sqlx::query_scalar(
            "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)),
              claimed AS (
                INSERT INTO invoice_keys (organisation_id, key, invoice_id)
                SELECT $8, $9, $2::uuid FROM async
                ON CONFLICT DO NOTHING
                RETURNING organisation_id),
              counted AS (
                INSERT INTO invoice_counters (organisation_id, series, year, last_number)
                SELECT organisation_id, $10, $11, 1 FROM claimed
                ON CONFLICT (organisation_id, series, year)
                   DO UPDATE SET last_number = invoice_counters.last_number + 1
                RETURNING $12 || CASE WHEN last_number < 1000000 THEN lpad(last_number::text, 6, '0')
                                      ELSE last_number::text END AS number),
              credited AS (
                INSERT INTO family_credits (family_id, available)
                SELECT $13, $14 FROM counted WHERE $15
                ON CONFLICT (family_id) DO UPDATE SET available = family_credits.available + $14
                RETURNING 1),
              appended AS (
                INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                                    payload, metadata)
                SELECT $1, $2, $3, $4, $5, jsonb_set($6, '{number}', to_jsonb(number)), $7
                  FROM counted
                RETURNING payload->>'number' AS number)
         SELECT number FROM appended",
        ))
        .bind(issued.issuer.id)
        .bind(key)
        .bind(kind.series())
        .bind(year)
        .bind(kind.number_prefix(year))
        .bind(issued.family_id)
        .bind(issued.total)
        // The credit is spendable from the moment its credit note exists, not before.
        .bind(kind == InvoiceKind::CreditNote)
        .fetch_optional(pool)
        .await?;
    if number.is_some() {
        flush_barrier(pool).await?;
    }
    Ok(number)
}

/// Returns once everything committed before it is on disk: a transaction that is given an id
/// commits synchronously, which flushes the WAL up to its commit record, past every earlier one.
async fn flush_barrier(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(pool)
        .await?;
    Ok(())
}

/// Appends an invoice's reminder as its event `1 + level`: answers false when that reminder was
/// already recorded (by this server or another).
pub async fn append_reminder(
    pool: &PgPool,
    reminder: &invoice::InvoiceReminderSent,
    meta: &CommandMeta,
) -> anyhow::Result<bool> {
    let event = NewEvent::new(
        invoice::AGGREGATE_TYPE,
        reminder.invoice_id,
        1 + i64::from(reminder.level),
        invoice::REMINDER_EVENT_TYPE,
        invoice::REMINDER_EVENT_VERSION,
        serde_json::to_value(reminder)?,
        meta,
    );
    let mut tx = pool.begin().await?;
    match super::append::append(&mut tx, &event).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(true)
        }
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}
