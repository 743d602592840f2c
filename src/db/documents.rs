//! The documents families download (migration 0010): rows without their bytes for the lists,
//! with them for a download.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentRow {
    pub id: Uuid,
    pub title: String,
    pub kind: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i32,
    pub uploaded_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentFile {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

pub struct NewDocumentRow<'a> {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub title: &'a str,
    pub kind: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, title, kind, file_name, content_type, size, uploaded_at, withdrawn_at";

pub async fn insert(pool: &PgPool, document: NewDocumentRow<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO documents (id, organisation_id, title, kind, file_name, content_type, bytes,
                                size, uploaded_by, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(document.id)
    .bind(document.organisation_id)
    .bind(document.title)
    .bind(document.kind)
    .bind(document.file_name)
    .bind(document.content_type)
    .bind(document.bytes)
    .bind(document.bytes.len() as i32)
    .bind(document.uploaded_by)
    .bind(document.uploaded_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Every document of the organisation, withdrawn ones included, the latest first.
pub async fn all(pool: &PgPool, organisation_id: Uuid) -> sqlx::Result<Vec<DocumentRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM documents WHERE organisation_id = $1
          ORDER BY uploaded_at DESC, id"
    ))
    .bind(organisation_id)
    .fetch_all(pool)
    .await
}

/// The documents a family may read: those of its own organisation, not withdrawn.
pub async fn current_for_family(pool: &PgPool, family_id: Uuid) -> sqlx::Result<Vec<DocumentRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM documents
          WHERE withdrawn_at IS NULL
            AND organisation_id = (SELECT organisation_id FROM families WHERE id = $1)
          ORDER BY uploaded_at DESC, id"
    ))
    .bind(family_id)
    .fetch_all(pool)
    .await
}

/// A document's file for a family: `None` unless it is current and of the family's organisation.
pub async fn file_for_family(
    pool: &PgPool,
    family_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<DocumentFile>> {
    sqlx::query_as(
        "SELECT file_name, content_type, bytes FROM documents
          WHERE id = $2 AND withdrawn_at IS NULL
            AND organisation_id = (SELECT organisation_id FROM families WHERE id = $1)",
    )
    .bind(family_id)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A document's file for the organisation's staff, withdrawn or not.
pub async fn file(
    pool: &PgPool,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<DocumentFile>> {
    sqlx::query_as(
        "SELECT file_name, content_type, bytes FROM documents
          WHERE id = $2 AND organisation_id = $1",
    )
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Withdraws a current document; `false` when there is none of that id to withdraw.
pub async fn withdraw(
    pool: &PgPool,
    organisation_id: Uuid,
    id: Uuid,
    by: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE documents SET withdrawn_at = $4, withdrawn_by = $3
          WHERE id = $2 AND organisation_id = $1 AND withdrawn_at IS NULL",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(by)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The kinds visitors may read before they log in: the canteen's rules and the tariff
/// deliberation are public acts of the town (the first guide lists them beside the login form);
/// any other document stays for the families.
const PUBLIC_KINDS: &str = "('rules', 'tariffs')";

/// The organisation's current public documents, the latest first.
pub async fn public_current(
    pool: &PgPool,
    organisation_id: Uuid,
) -> sqlx::Result<Vec<DocumentRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM documents
          WHERE organisation_id = $1 AND withdrawn_at IS NULL AND kind IN {PUBLIC_KINDS}
          ORDER BY uploaded_at DESC, id"
    ))
    .bind(organisation_id)
    .fetch_all(pool)
    .await
}

/// A public document's file: `None` unless it is current, public and the organisation's.
pub async fn public_file(
    pool: &PgPool,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<DocumentFile>> {
    sqlx::query_as(&format!(
        "SELECT file_name, content_type, bytes FROM documents
          WHERE id = $2 AND organisation_id = $1 AND withdrawn_at IS NULL
            AND kind IN {PUBLIC_KINDS}"
    ))
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(pool)
    .await
}
