//! SEPA direct debit as read: the creditor's settings, mandates, batches and their debits. The
//! writes, each with its event, are the store's (`store::sepa`).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CreditorRow {
    pub sepa_creditor_name: Option<String>,
    pub sepa_creditor_id: Option<String>,
    pub sepa_iban: Option<String>,
    pub sepa_bic: Option<String>,
}

pub async fn creditor(pool: &PgPool, organisation_id: Uuid) -> sqlx::Result<Option<CreditorRow>> {
    sqlx::query_as(
        "SELECT sepa_creditor_name, sepa_creditor_id, sepa_iban, sepa_bic
           FROM organisations WHERE id = $1",
    )
    .bind(organisation_id)
    .fetch_optional(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MandateRow {
    pub id: Uuid,
    pub family_id: Uuid,
    pub family_name: String,
    pub rum: String,
    pub iban: String,
    pub bic: String,
    pub holder: String,
    pub signed_on: NaiveDate,
    pub sequence: String,
    pub recorded_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    /// Debits presented on it and not rejected.
    pub collected: i64,
}

/// The organisation's mandates (one family's with `family_id`), those in force first.
pub async fn mandates(
    pool: &PgPool,
    organisation_id: Uuid,
    family_id: Option<Uuid>,
) -> sqlx::Result<Vec<MandateRow>> {
    sqlx::query_as(
        "SELECT m.id, m.family_id, f.name AS family_name, m.rum, m.iban, m.bic, m.holder,
                m.signed_on, m.sequence, m.recorded_at, m.revoked_at, m.revoked_reason,
                (SELECT count(*) FROM payments p
                  WHERE p.sepa_mandate_id = m.id AND p.reversed_at IS NULL) AS collected
           FROM sepa_mandates m JOIN families f ON f.id = m.family_id
          WHERE m.organisation_id = $1 AND ($2::uuid IS NULL OR m.family_id = $2)
          ORDER BY m.revoked_at IS NOT NULL, f.name, m.recorded_at DESC",
    )
    .bind(organisation_id)
    .bind(family_id)
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BatchRow {
    pub id: Uuid,
    pub month: String,
    pub message_id: String,
    pub prenotified_on: NaiveDate,
    pub collection_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub transactions: i32,
    pub control_sum: Decimal,
}

/// The month's batches, the latest first.
pub async fn batches(
    pool: &PgPool,
    organisation_id: Uuid,
    month: &str,
) -> sqlx::Result<Vec<BatchRow>> {
    sqlx::query_as(
        "SELECT id, month, message_id, prenotified_on, collection_date, created_at, transactions,
                control_sum
           FROM sepa_batches WHERE organisation_id = $1 AND month = $2
          ORDER BY created_at DESC, message_id DESC",
    )
    .bind(organisation_id)
    .bind(month)
    .fetch_all(pool)
    .await
}

/// A batch's file, as written (the month's latest without `batch_id`).
pub async fn batch_file(
    pool: &PgPool,
    organisation_id: Uuid,
    month: &str,
    batch_id: Option<Uuid>,
) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as(
        "SELECT message_id, xml FROM sepa_batches
          WHERE organisation_id = $1 AND month = $2 AND ($3::uuid IS NULL OR id = $3)
          ORDER BY created_at DESC, message_id DESC LIMIT 1",
    )
    .bind(organisation_id)
    .bind(month)
    .bind(batch_id)
    .fetch_optional(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DebitRow {
    pub id: Uuid,
    pub batch_message_id: String,
    pub family_id: Uuid,
    pub family_name: String,
    pub end_to_end_id: String,
    pub invoice_number: String,
    pub invoice_id: Uuid,
    pub amount: Decimal,
    pub sequence: String,
    pub collection_date: NaiveDate,
    pub rejected_at: Option<DateTime<Utc>>,
    pub reject_code: Option<String>,
}

/// The debits of the month's batches (or of one family's, all months), by batch and family.
pub async fn debits(
    pool: &PgPool,
    organisation_id: Uuid,
    month: Option<&str>,
    family_id: Option<Uuid>,
) -> sqlx::Result<Vec<DebitRow>> {
    sqlx::query_as(
        "SELECT p.id, b.message_id AS batch_message_id, p.family_id, f.name AS family_name,
                p.provider_ref AS end_to_end_id,
                e.payload->'SepaDebitPresented'->'invoices'->0->>'invoice_number' AS invoice_number,
                (e.payload->'SepaDebitPresented'->'invoices'->0->>'invoice_id')::uuid AS invoice_id,
                p.amount, e.payload->'SepaDebitPresented'->>'sequence' AS sequence,
                b.collection_date, p.reversed_at AS rejected_at, p.reject_code
           FROM payments p
           JOIN sepa_batches b ON b.id = p.sepa_batch_id
           JOIN families f ON f.id = p.family_id
           JOIN events e ON e.aggregate_type = 'Payment' AND e.aggregate_id = p.id::text
                        AND e.sequence = 1
          WHERE b.organisation_id = $1 AND ($2::text IS NULL OR b.month = $2)
            AND ($3::uuid IS NULL OR p.family_id = $3)
          ORDER BY b.created_at DESC, f.name, p.provider_ref",
    )
    .bind(organisation_id)
    .bind(month)
    .bind(family_id)
    .fetch_all(pool)
    .await
}

/// The latest rejected debit of each of these invoices: its reason code and when.
pub async fn rejections_of(
    pool: &PgPool,
    invoice_ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, String, DateTime<Utc>)>> {
    sqlx::query_as(
        "SELECT DISTINCT ON (i.id) i.id, p.reject_code, p.reversed_at
           FROM payments p CROSS JOIN unnest(p.invoice_ids) AS i(id)
          WHERE p.method = 'sepa' AND p.reversed_at IS NOT NULL AND p.reject_code IS NOT NULL
            AND i.id = ANY($1)
          ORDER BY i.id, p.reversed_at DESC",
    )
    .bind(invoice_ids)
    .fetch_all(pool)
    .await
}
