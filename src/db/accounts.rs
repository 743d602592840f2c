//! Users (families and staff), their password hashes, login failures and sessions.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::account::Role;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub login: String,
    pub password_hash: Option<String>,
    pub role: String,
    pub family_id: Option<Uuid>,
    pub failed_logins: i32,
    pub locked_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
}

const USER_COLUMNS: &str =
    "id, login, password_hash, role, family_id, failed_logins, locked_at, disabled_at";

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
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE lower(login) = lower($1)"
    ))
    .bind(login)
    .fetch_optional(pool)
    .await
}

/// The town's staff accounts, by login.
pub async fn staff_users(pool: &PgPool) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE role <> 'family' ORDER BY lower(login)"
    ))
    .fetch_all(pool)
    .await
}

pub async fn user_by_id(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The account of a family of this organisation.
pub async fn family_user(
    pool: &PgPool,
    organisation_id: Uuid,
    family_id: Uuid,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users
          WHERE family_id = $1
            AND family_id IN (SELECT id FROM families WHERE organisation_id = $2)"
    ))
    .bind(family_id)
    .bind(organisation_id)
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

pub async fn record_successful_login(
    pool: &PgPool,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET failed_logins = 0, last_login_at = $2 WHERE id = $1")
        .bind(user_id)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

/// One line of the login log. `login` is kept only when it names an account.
pub struct LoginAttempt<'a> {
    pub at: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    pub login: Option<&'a str>,
    pub client: &'a str,
    pub result: &'static str,
}

pub async fn log_login_attempt(pool: &PgPool, attempt: LoginAttempt<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO login_attempts (at, user_id, login, client, result) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(attempt.at)
    .bind(attempt.user_id)
    .bind(attempt.login)
    .bind(attempt.client)
    .bind(attempt.result)
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct LoginAttemptRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    pub login: Option<String>,
    pub client: String,
    /// `success`, `wrong_password`, `unknown_login`, `no_password`, `locked`, `disabled`, `throttled`
    pub result: String,
}

/// The latest attempts, newest first.
pub async fn login_attempts(
    pool: &PgPool,
    before_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<LoginAttemptRow>> {
    sqlx::query_as(
        "SELECT id, at, user_id, login, client, result FROM login_attempts
          WHERE $1::bigint IS NULL OR id < $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(before_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

pub async fn revoke_session(
    pool: &PgPool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
        .bind(token_hash)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn revoke_all_sessions<'e, E>(
    executor: E,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<u64>
where
    E: sqlx::PgExecutor<'e>,
{
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// Sets a new password; lifts the lock and ends every session and every other password link.
pub async fn set_password(
    pool: &PgPool,
    user_id: Uuid,
    password_hash: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE users SET password_hash = $2, failed_logins = 0, locked_at = NULL, password_changed_at = $3
          WHERE id = $1",
    )
    .bind(user_id)
    .bind(password_hash)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    revoke_all_sessions(&mut *tx, user_id, now).await?;
    sqlx::query("UPDATE password_links SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

pub async fn insert_password_link(
    pool: &PgPool,
    token_hash: &[u8],
    user_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO password_links (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Uses a password link: answers its account only if the link was unused and unexpired, and the
/// account usable, and then the link is spent (two concurrent uses: one wins).
pub async fn use_password_link(
    pool: &PgPool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    let row: Option<(Uuid,)> = sqlx::query_as(
        "UPDATE password_links l SET used_at = $2
           FROM users u
          WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2
            AND u.id = l.user_id AND u.disabled_at IS NULL
         RETURNING l.user_id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.0))
}

/// A password link could be used (the page shows the form only then). Spends nothing.
pub async fn password_link_usable(
    pool: &PgPool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let (usable,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM password_links l JOIN users u ON u.id = l.user_id
                         WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2
                           AND u.disabled_at IS NULL)",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(usable)
}

pub async fn unlock(pool: &PgPool, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET failed_logins = 0, locked_at = NULL WHERE id = $1")
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Disables (and ends every session of) or enables an account.
pub async fn set_disabled(
    pool: &PgPool,
    user_id: Uuid,
    disabled: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE users SET disabled_at = CASE WHEN $2 THEN COALESCE(disabled_at, $3) END WHERE id = $1",
    )
    .bind(user_id)
    .bind(disabled)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if disabled {
        revoke_all_sessions(&mut *tx, user_id, now).await?;
    }
    tx.commit().await
}

/// Changes a login; answers false when another account already uses it.
pub async fn change_login(pool: &PgPool, user_id: Uuid, login: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET login = $2 WHERE id = $1
            AND NOT EXISTS (SELECT 1 FROM users o WHERE lower(o.login) = lower($2) AND o.id <> $1)",
    )
    .bind(user_id)
    .bind(login)
    .execute(pool)
    .await;
    match done {
        Ok(done) => Ok(done.rows_affected() == 1),
        // Two concurrent changes to the same login: the unique index refuses the second.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FamilyAccountRow {
    pub id: Uuid,
    pub name: String,
    pub login: String,
    pub has_password: bool,
    pub locked_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub anonymised_at: Option<DateTime<Utc>>,
    pub quotient_familial: Option<i32>,
}

pub async fn family_account(
    pool: &PgPool,
    organisation_id: Uuid,
    family_id: Uuid,
) -> sqlx::Result<Option<FamilyAccountRow>> {
    sqlx::query_as(
        "SELECT f.id, f.name, u.login, u.password_hash IS NOT NULL AS has_password, u.locked_at,
                u.disabled_at, u.last_login_at, f.anonymised_at, f.quotient_familial
           FROM families f JOIN users u ON u.family_id = f.id
          WHERE f.id = $1 AND f.organisation_id = $2",
    )
    .bind(family_id)
    .bind(organisation_id)
    .fetch_optional(pool)
    .await
}

pub async fn rename_family(pool: &PgPool, family_id: Uuid, name: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE families SET name = $2 WHERE id = $1")
        .bind(family_id)
        .bind(name)
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

/// The user of a live session. A lock (three wrong passwords) stops new logins only: whoever
/// typed them must not end the sessions the account's owner already has open. Disabling an
/// account ends them.
pub async fn session_user(
    pool: &PgPool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<SessionUser>> {
    sqlx::query_as(
        "SELECT u.id AS user_id, u.role, u.family_id
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
            AND u.disabled_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await
}

/// One page of the organisation's families for the back office, by name, whose name or login
/// contains `search` (any case); with how many match in all.
pub async fn search_families(
    pool: &PgPool,
    organisation_id: Uuid,
    search: &str,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(Vec<FamilyAccountRow>, i64)> {
    // `%` and `_` typed in the box are searched for as themselves.
    let pattern = format!(
        "%{}%",
        search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let (total,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM families f JOIN users u ON u.family_id = f.id
          WHERE f.organisation_id = $1 AND (f.name ILIKE $2 OR u.login ILIKE $2)",
    )
    .bind(organisation_id)
    .bind(&pattern)
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query_as(
        "SELECT f.id, f.name, u.login, u.password_hash IS NOT NULL AS has_password, u.locked_at,
                u.disabled_at, u.last_login_at, f.anonymised_at, f.quotient_familial
           FROM families f JOIN users u ON u.family_id = f.id
          WHERE f.organisation_id = $1 AND (f.name ILIKE $2 OR u.login ILIKE $2)
          ORDER BY lower(f.name), f.id OFFSET $3 LIMIT $4",
    )
    .bind(organisation_id)
    .bind(&pattern)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok((rows, total))
}
