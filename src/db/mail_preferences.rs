//! The e-mails a family turned off (`family_mail_preferences`).

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// The kinds the family turned off.
pub async fn turned_off(pool: &PgPool, family_id: Uuid) -> sqlx::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT kind FROM family_mail_preferences WHERE family_id = $1 AND NOT enabled",
    )
    .bind(family_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Records the family's choice for each of these kinds.
pub async fn set(
    pool: &PgPool,
    family_id: Uuid,
    choices: &[(&str, bool)],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let kinds: Vec<&str> = choices.iter().map(|(k, _)| *k).collect();
    let enabled: Vec<bool> = choices.iter().map(|(_, e)| *e).collect();
    sqlx::query(
        "INSERT INTO family_mail_preferences (family_id, kind, enabled, updated_at)
         SELECT $1, k, e, $4 FROM unnest($2::text[], $3::bool[]) AS c(k, e)
         ON CONFLICT (family_id, kind) DO UPDATE SET enabled = EXCLUDED.enabled,
                                                    updated_at = EXCLUDED.updated_at",
    )
    .bind(family_id)
    .bind(&kinds)
    .bind(&enabled)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}
