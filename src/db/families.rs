//! A new family and its account, written together: a family without its login would be a
//! family nobody can open.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::account::Role;

pub struct NewFamilyAccount<'a> {
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    pub name: &'a str,
    pub login: &'a str,
    pub password_hash: Option<&'a str>,
    /// The service's clock: how long a family has been gone is counted from it.
    pub now: DateTime<Utc>,
}

/// Inserts the family and its user in one transaction; false (and nothing written) when the
/// login was taken in the meantime.
pub async fn insert_family_account(pool: &PgPool, new: NewFamilyAccount<'_>) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO families (id, organisation_id, name, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(new.family_id)
    .bind(new.organisation_id)
    .bind(new.name)
    .bind(new.now)
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO users (id, login, password_hash, role, family_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(new.login)
    .bind(new.password_hash)
    .bind(Role::Family.as_str())
    .bind(new.family_id)
    .bind(new.now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}
