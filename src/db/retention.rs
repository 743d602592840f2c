//! Personal data of families gone for years is anonymised (`cantine families anonymise
//! --gone-for-years N`), keeping what finance must keep.
//!
//! A family is **gone** when, for N years: no login, no meal day booked, no reservation made;
//! and nothing is left open (no reservation awaiting confirmation or payment, no payment
//! pending); and its account is older than N years.
//!
//! What changes: the family's name, its children's names (and meal option, back to `standard`),
//! its login (a unique `@invalid` address) and password, its sessions and password links, the
//! login log's lines about it (login and address), and the names in the reservations read model.
//!
//! What stays, on purpose: invoices as issued (numbered, never changed: the accounting
//! retention period applies to them, names included), payments (amounts, dates, provider
//! references), and the event log, which is never edited: its `ReservationRequested` events
//! still carry the children's names. A full replay of the projections would therefore write those
//! names back into the read model; this command can simply be run again after a replay.
//! Removing names from the log itself would need them kept out of the events (or encrypted with a
//! per-family key that is then deleted), a change of the events' format left to a later issue.

use chrono::{DateTime, Months, Utc};
use sqlx::PgPool;
use uuid::Uuid;

pub const ANONYMOUS_FAMILY_NAME: &str = "Famille anonymisée";
pub const ANONYMOUS_FIRST_NAME: &str = "Enfant";
pub const ANONYMOUS_LAST_NAME: &str = "anonymisé";

/// The families gone for `years` years at `now`.
pub async fn gone_families(
    pool: &PgPool,
    now: DateTime<Utc>,
    years: u32,
) -> anyhow::Result<Vec<Uuid>> {
    let cutoff = now
        .checked_sub_months(Months::new(12 * years))
        .ok_or_else(|| anyhow::anyhow!("{years} years before {now} is out of range"))?;
    let ids: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT f.id FROM families f JOIN users u ON u.family_id = f.id
          WHERE f.anonymised_at IS NULL
            AND f.created_at < $1
            AND (u.last_login_at IS NULL OR u.last_login_at < $1)
            AND NOT EXISTS (SELECT 1 FROM reservation_view r
                             WHERE r.family_id = f.id
                               AND (r.last_day >= $1::date OR r.created_at >= $1
                                    OR r.status IN ('requested', 'awaiting_payment')))
            AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.family_id = f.id AND p.status = 'pending')
          ORDER BY f.id",
    )
    .bind(cutoff)
    .fetch_all(pool)
    .await?;
    Ok(ids.into_iter().map(|r| r.0).collect())
}

/// Anonymises these families, all or none.
pub async fn anonymise(pool: &PgPool, families: &[Uuid], now: DateTime<Utc>) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    // The quotient familial says what the family earned: it goes with the names, as do the
    // family's address, phones and second guardian.
    sqlx::query(
        "UPDATE families SET name = $2, anonymised_at = $3, quotient_familial = NULL,
                quotient_set_at = NULL, address = NULL, phone = NULL, mobile_phone = NULL,
                second_guardian_name = NULL, second_guardian_phone = NULL,
                second_guardian_email = NULL
          WHERE id = ANY($1)",
    )
    .bind(families)
    .bind(ANONYMOUS_FAMILY_NAME)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE children SET first_name = $2, last_name = $3, meal_option = 'standard'
          WHERE family_id = ANY($1)",
    )
    .bind(families)
    .bind(ANONYMOUS_FIRST_NAME)
    .bind(ANONYMOUS_LAST_NAME)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE reservation_view SET child_first_name = $2, child_last_name = $3
          WHERE family_id = ANY($1)",
    )
    .bind(families)
    .bind(ANONYMOUS_FIRST_NAME)
    .bind(ANONYMOUS_LAST_NAME)
    .execute(&mut *tx)
    .await?;
    // Its SEPA mandates: the account and its holder; a mandate of a family gone is revoked.
    sqlx::query(
        "UPDATE sepa_mandates SET holder = 'anonymised', iban = 'anonymised', bic = 'anonymised',
                revoked_at = COALESCE(revoked_at, now()),
                revoked_reason = COALESCE(revoked_reason, 'anonymised')
          WHERE family_id = ANY($1)",
    )
    .bind(families)
    .execute(&mut *tx)
    .await?;
    // The e-mails the family was sent (its address, its children's names).
    sqlx::query("DELETE FROM mail_outbox WHERE family_id = ANY($1)")
        .bind(families)
        .execute(&mut *tx)
        .await?;
    let users = "SELECT id FROM users WHERE family_id = ANY($1)";
    sqlx::query(&format!("DELETE FROM sessions WHERE user_id IN ({users})"))
        .bind(families)
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!(
        "DELETE FROM password_links WHERE user_id IN ({users})"
    ))
    .bind(families)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "UPDATE login_attempts SET login = NULL, client = 'anonymised' WHERE user_id IN ({users})"
    ))
    .bind(families)
    .execute(&mut *tx)
    .await?;
    // The login must stay unique: the account's own id makes it so.
    sqlx::query(
        "UPDATE users SET login = 'anonymised-' || id || '@invalid', password_hash = NULL,
                disabled_at = COALESCE(disabled_at, $2), locked_at = NULL, failed_logins = 0
          WHERE family_id = ANY($1)",
    )
    .bind(families)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
