//! The outbox of e-mails (`mail_outbox`): what the sender takes, and what it records of each try.
//! The rows are written by the notifications consumer (`projections::notifications`).

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// An e-mail due to be sent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueMail {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attempts: i32,
    /// For an e-mail the family may turn off: the portal's page where it does.
    pub unsubscribe_path: Option<String>,
}

/// Takes up to `limit` e-mails due at `now` and leases them until `lease_until`: another
/// sender (a second server) skips them, and a sender that dies mid-way leaves them to be taken
/// again once the lease has passed.
pub async fn claim_due(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<DueMail>> {
    sqlx::query_as(
        // A lease lost in a database crash only frees the e-mails sooner: no flush awaited.
        "WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
         UPDATE mail_outbox o SET next_attempt_at = $2
           FROM async, (SELECT id FROM mail_outbox
                  WHERE status = 'pending' AND next_attempt_at <= $1
                  ORDER BY next_attempt_at, id
                  LIMIT $3
                  FOR UPDATE SKIP LOCKED) due
          WHERE o.id = due.id
         RETURNING o.id, o.kind, o.recipient, o.subject, o.text_body, o.html_body, o.attempts,
                   o.unsubscribe_path",
    )
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Records a sent e-mail. Its commit does not wait for the WAL flush: in the opening-day rush
/// each e-mail's own flush queued on the disk in front of the commands' commits (8,000 of them
/// in 40 s), and a record lost in a database crash only sends the e-mail again after its lease,
/// with the same `Message-ID`: the at-least-once delivery the sender already promises.
pub async fn mark_sent(pool: &PgPool, id: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query(
        "WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
         UPDATE mail_outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1,
                last_error = NULL
          WHERE id = $1 AND EXISTS (SELECT FROM async)",
    )
    .bind(id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// One more failed try: tried again at `retry_at`, or, `None`, marked failed for good.
pub async fn mark_attempt_failed(
    pool: &PgPool,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE mail_outbox
            SET attempts = attempts + 1, last_error = $2,
                status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
                next_attempt_at = COALESCE($3, next_attempt_at)
          WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(retry_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// How many e-mails are pending, sent and failed.
pub async fn counts(pool: &PgPool) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT s.status, count(o.id)
           FROM (VALUES ('pending'), ('sent'), ('failed')) s (status)
           LEFT JOIN mail_outbox o ON o.status = s.status
          GROUP BY s.status ORDER BY s.status",
    )
    .fetch_all(pool)
    .await
}

/// An e-mail as staff see it in the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub family_id: Option<Uuid>,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The newest e-mails of a status (`None`: any), newest first.
pub async fn list(pool: &PgPool, status: Option<&str>, limit: i64) -> sqlx::Result<Vec<OutboxRow>> {
    sqlx::query_as(
        "SELECT id, kind, family_id, recipient, subject, status, attempts, last_error, created_at,
                next_attempt_at, sent_at
           FROM mail_outbox
          WHERE $1::text IS NULL OR status = $1
          ORDER BY id DESC LIMIT $2",
    )
    .bind(status)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// A prepaid hold whose payment deadline is near, with its confirmation's position in the log
/// (the key of its reminder).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HoldNearDeadline {
    pub id: Uuid,
    pub total: rust_decimal::Decimal,
    pub pay_before: DateTime<Utc>,
    pub confirmed_position: i64,
}

/// Reservations awaiting payment whose deadline falls within (`now`, `until`] and whose
/// reminder is not in the outbox yet.
pub async fn holds_near_deadline(
    pool: &PgPool,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<Vec<HoldNearDeadline>> {
    sqlx::query_as(
        "SELECT v.id, v.total, v.pay_before, e.global_position AS confirmed_position
           FROM reservation_view v
           JOIN events e ON e.aggregate_type = 'Reservation' AND e.aggregate_id = v.id::text
                        AND e.event_type = 'ReservationConfirmed'
          WHERE v.status = 'awaiting_payment' AND v.pay_before > $1 AND v.pay_before <= $2
            AND NOT EXISTS (SELECT 1 FROM mail_outbox m
                             WHERE m.event_position = e.global_position AND m.kind = 'hold_reminder')
          ORDER BY v.pay_before
          LIMIT 500",
    )
    .bind(now)
    .bind(until)
    .fetch_all(pool)
    .await
}
