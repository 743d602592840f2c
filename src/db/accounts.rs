//! Users (families and staff), their password hashes, login failures and sessions.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::accounts::Role;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub login: String,
    pub password_hash: Option<String>,
    pub role: String,
    pub family_id: Option<Uuid>,
    pub failed_logins: i32,
    pub locked_at: Option<DateTime<Utc>>,
}

pub async fn insert_user(
    pool: &PgPool,
    login: &str,
    password_hash: Option<&str>,
    role: Role,
    family_id: Option<Uuid>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO users (id, login, password_hash, role, family_id) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(login)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(family_id)
    .execute(pool)
    .await?;
    Ok(id)
}

pub async fn user_by_login(pool: &PgPool, login: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(
        "SELECT id, login, password_hash, role, family_id, failed_logins, locked_at
           FROM users WHERE lower(login) = lower($1)",
    )
    .bind(login)
    .fetch_optional(pool)
    .await
}

/// Counts a wrong password; locks the account at `lock_after` failures in a row.
/// Answers whether the account is now locked.
pub async fn record_failed_login(
    pool: &PgPool,
    user_id: Uuid,
    lock_after: i32,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let (locked,): (bool,) = sqlx::query_as(
        "UPDATE users SET failed_logins = failed_logins + 1,
                locked_at = CASE WHEN failed_logins + 1 >= $2 THEN COALESCE(locked_at, $3) ELSE locked_at END
          WHERE id = $1 RETURNING locked_at IS NOT NULL",
    )
    .bind(user_id)
    .bind(lock_after)
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(locked)
}

pub async fn record_successful_login(pool: &PgPool, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET failed_logins = 0 WHERE id = $1 AND failed_logins <> 0")
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn insert_session(
    pool: &PgPool,
    token_hash: &[u8],
    user_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUser {
    pub user_id: Uuid,
    pub role: String,
    pub family_id: Option<Uuid>,
}

pub async fn session_user(
    pool: &PgPool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<SessionUser>> {
    sqlx::query_as(
        "SELECT u.id AS user_id, u.role, u.family_id
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.locked_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await
}
