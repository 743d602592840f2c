//! What the finance office reads over a span of time: the documents issued (`invoice_view`),
//! the payments started or settled, the refunds recorded, and the ledger's movements per
//! restaurant, each for one organisation and a half-open range of instants [start, end).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::invoice::{InvoiceIssued, InvoiceKind};
use crate::domain::payment::PaymentStatus;

/// An organisation's span of time: [start, end).
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub organisation_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The invoices and credit notes issued in the span, by number.
pub async fn issued(pool: &PgPool, span: Span) -> sqlx::Result<Vec<InvoiceIssued>> {
    let rows: Vec<(Json<InvoiceIssued>,)> = sqlx::query_as(
        "SELECT document FROM invoice_view
          WHERE organisation_id = $1 AND issued_at >= $2 AND issued_at < $3 ORDER BY number",
    )
    .bind(span.organisation_id)
    .bind(span.start)
    .bind(span.end)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(doc,)| doc.0).collect())
}

/// The credit notes (`credit_notes`) or the invoices (otherwise) issued in the span, by number.
pub async fn issued_of_series(
    pool: &PgPool,
    span: Span,
    credit_notes: bool,
) -> sqlx::Result<Vec<InvoiceIssued>> {
    let rows: Vec<(Json<InvoiceIssued>,)> = sqlx::query_as(
        "SELECT document FROM invoice_view
          WHERE organisation_id = $1 AND issued_at >= $2 AND issued_at < $3
            AND (kind = $5) = $4
          ORDER BY number",
    )
    .bind(span.organisation_id)
    .bind(span.start)
    .bind(span.end)
    .bind(credit_notes)
    .bind(InvoiceKind::CreditNote.as_str())
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(doc,)| doc.0).collect())
}

/// A payment as the finance office follows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StartedPaymentRow {
    pub id: Uuid,
    pub family_name: String,
    #[sqlx(try_from = "String")]
    pub status: PaymentStatus,
    pub amount: Decimal,
    pub credit_used: Decimal,
    pub reservations: i64,
    pub provider_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

/// The payments started in the span, with this status if given, the latest first.
pub async fn payments_started(
    pool: &PgPool,
    span: Span,
    status: Option<PaymentStatus>,
) -> sqlx::Result<Vec<StartedPaymentRow>> {
    sqlx::query_as(
        "SELECT p.id, f.name AS family_name, p.status, p.amount, p.credit_used,
                cardinality(p.reservation_ids)::bigint AS reservations, p.provider_ref,
                p.created_at, p.settled_at
           FROM payments p JOIN families f ON f.id = p.family_id
          WHERE f.organisation_id = $1 AND p.created_at >= $2 AND p.created_at < $3
            AND ($4::text IS NULL OR p.status = $4)
          ORDER BY p.created_at DESC, p.id",
    )
    .bind(span.organisation_id)
    .bind(span.start)
    .bind(span.end)
    .bind(status.map(PaymentStatus::as_str))
    .fetch_all(pool)
    .await
}

/// A payment that succeeded, as the month's export lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettledPaymentRow {
    pub id: Uuid,
    pub settled_at: DateTime<Utc>,
    pub family_name: String,
    pub family_id: Uuid,
    pub provider_ref: Option<String>,
    pub reservations: i64,
    pub credit_used: Decimal,
    pub amount: Decimal,
}

/// The payments that succeeded in the span, in the order they did.
pub async fn payments_settled(pool: &PgPool, span: Span) -> sqlx::Result<Vec<SettledPaymentRow>> {
    sqlx::query_as(
        "SELECT p.id, p.settled_at, f.name AS family_name, f.id AS family_id, p.provider_ref,
                cardinality(p.reservation_ids)::bigint AS reservations, p.credit_used, p.amount
           FROM payments p JOIN families f ON f.id = p.family_id
          WHERE f.organisation_id = $1 AND p.status = $4
            AND p.settled_at >= $2 AND p.settled_at < $3
          ORDER BY p.settled_at, p.id",
    )
    .bind(span.organisation_id)
    .bind(span.start)
    .bind(span.end)
    .bind(PaymentStatus::Succeeded.as_str())
    .fetch_all(pool)
    .await
}

/// A refund owed to a payer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefundRow {
    /// The payment whose money goes back (none for a credit paid back by transfer).
    pub payment_id: Option<Uuid>,
    pub reservation_id: Option<Uuid>,
    pub recorded_at: DateTime<Utc>,
    pub family_name: String,
    pub family_id: Uuid,
    pub reason: String,
    pub amount: Decimal,
    /// `due` (owed for a payment) or `transfer` (a credit paid back by finance).
    pub method: String,
    /// The transfer's reference.
    pub reference: Option<String>,
}

/// The refunds recorded in the span, in the order they were.
pub async fn refunds_recorded(pool: &PgPool, span: Span) -> sqlx::Result<Vec<RefundRow>> {
    sqlx::query_as(
        "SELECT r.payment_id, r.reservation_id, r.recorded_at, f.name AS family_name,
                f.id AS family_id, r.reason, r.amount, r.method, r.reference
           FROM refunds r JOIN families f ON f.id = r.family_id
          WHERE f.organisation_id = $1 AND r.recorded_at >= $2 AND r.recorded_at < $3
          ORDER BY r.recorded_at",
    )
    .bind(span.organisation_id)
    .bind(span.start)
    .bind(span.end)
    .fetch_all(pool)
    .await
}

/// The month's four columns, all positive: invoiced, credited, paid, refunded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Columns {
    pub invoiced: Decimal,
    pub credited: Decimal,
    pub paid: Decimal,
    pub refunded: Decimal,
}

/// A restaurant's movements in the ledger over the span, and their signed sum as the ledger
/// has it (to check that the columns balance to it).
#[derive(Debug, Clone)]
pub struct RestaurantMovements {
    pub restaurant: String,
    pub columns: Columns,
    /// What the span leaves owed: minus the sum of the family-signed amounts.
    pub net: Decimal,
}

/// The ledger's movements in the span, per restaurant (by name).
pub async fn ledger_movements(pool: &PgPool, span: Span) -> sqlx::Result<Vec<RestaurantMovements>> {
    let rows: Vec<(String, Decimal, Decimal, Decimal, Decimal, Decimal)> = sqlx::query_as(
        "SELECT restaurant,
                COALESCE(sum(-amount) FILTER (WHERE entry = 'invoice'), 0),
                COALESCE(sum(amount) FILTER (WHERE entry = 'credit_note'), 0),
                COALESCE(sum(amount) FILTER (WHERE entry = 'payment'), 0),
                COALESCE(sum(-amount) FILTER (WHERE entry = 'refund'), 0),
                -sum(amount)
           FROM ledger_view
          WHERE organisation_id = $1 AND occurred_at >= $2 AND occurred_at < $3
          GROUP BY restaurant ORDER BY restaurant",
    )
    .bind(span.organisation_id)
    .bind(span.start)
    .bind(span.end)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(restaurant, invoiced, credited, paid, refunded, net)| RestaurantMovements {
                restaurant,
                columns: Columns {
                    invoiced,
                    credited,
                    paid,
                    refunded,
                },
                net,
            },
        )
        .collect())
}

/// The span's columns straight from their sources (documents, payments, refunds), not from
/// the ledger.
pub async fn source_columns(pool: &PgPool, span: Span) -> sqlx::Result<Columns> {
    let (invoiced, credited): (Decimal, Decimal) = sqlx::query_as(
        "SELECT COALESCE(sum(total) FILTER (WHERE kind <> $4), 0),
                COALESCE(sum(total) FILTER (WHERE kind = $4), 0)
           FROM invoice_view WHERE organisation_id = $1 AND issued_at >= $2 AND issued_at < $3",
    )
    .bind(span.organisation_id)
    .bind(span.start)
    .bind(span.end)
    .bind(InvoiceKind::CreditNote.as_str())
    .fetch_one(pool)
    .await?;
    // A desk payment reversed (never deleted) counts where it was received and is taken back
    // where it was reversed, as the ledger books it.
    let (paid,): (Decimal,) = sqlx::query_as(
        "SELECT COALESCE(sum(p.amount) FILTER (WHERE p.settled_at >= $2 AND p.settled_at < $3), 0)
              - COALESCE(sum(p.amount) FILTER (WHERE p.reversed_at >= $2 AND p.reversed_at < $3), 0)
           FROM payments p JOIN families f ON f.id = p.family_id
          WHERE f.organisation_id = $1 AND p.status = $4",
    )
    .bind(span.organisation_id)
    .bind(span.start)
    .bind(span.end)
    .bind(PaymentStatus::Succeeded.as_str())
    .fetch_one(pool)
    .await?;
    let (refunded,): (Decimal,) = sqlx::query_as(
        "SELECT COALESCE(sum(r.amount), 0) FROM refunds r JOIN families f ON f.id = r.family_id
          WHERE f.organisation_id = $1 AND r.recorded_at >= $2 AND r.recorded_at < $3",
    )
    .bind(span.organisation_id)
    .bind(span.start)
    .bind(span.end)
    .fetch_one(pool)
    .await?;
    Ok(Columns {
        invoiced,
        credited,
        paid,
        refunded,
    })
}

/// A monthly invoice with something left to pay.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnpaidInvoice {
    pub invoice_id: Uuid,
    pub number: String,
    pub family_id: Uuid,
    pub family_name: String,
    pub month: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub total: Decimal,
    /// What the succeeded payments (online or at the desk, not reversed) paid on it.
    pub paid: Decimal,
}

/// The organisation's monthly invoices not paid in full (of one family or all), by family
/// name, then the oldest first.
pub async fn unpaid_invoices(
    pool: &PgPool,
    organisation_id: Uuid,
    family_id: Option<Uuid>,
) -> sqlx::Result<Vec<UnpaidInvoice>> {
    sqlx::query_as(
        "SELECT v.id AS invoice_id, v.number, v.family_id, f.name AS family_name,
                v.period_month AS month, v.issued_at, v.total, COALESCE(paid.amount, 0) AS paid
           FROM invoice_view v
           JOIN families f ON f.id = v.family_id
           LEFT JOIN LATERAL (
                SELECT sum((a->>'credit')::numeric + (a->>'cash')::numeric) AS amount
                  FROM payments p
                  JOIN events e ON e.aggregate_type = 'Payment' AND e.aggregate_id = p.id::text
                                AND e.sequence = 1
                 CROSS JOIN jsonb_array_elements(COALESCE(e.payload->'PaymentStarted'->'invoices',
                                                          e.payload->'DeskPaymentRecorded'->'invoices',
                                                    e.payload->'SepaDebitPresented'->'invoices')) a
                 WHERE p.family_id = v.family_id AND p.status = 'succeeded'
                   AND p.reversed_at IS NULL AND v.id = ANY(p.invoice_ids)
                   AND (a->>'invoice_id')::uuid = v.id) paid ON true
          WHERE v.organisation_id = $1 AND v.kind = 'monthly'
            AND ($2::uuid IS NULL OR v.family_id = $2)
            AND COALESCE(paid.amount, 0) < v.total
          ORDER BY f.name, v.family_id, v.issued_at, v.number",
    )
    .bind(organisation_id)
    .bind(family_id)
    .fetch_all(pool)
    .await
}

/// The reminders already recorded for each of these invoices (0, 1 or 2).
pub async fn reminders_sent(pool: &PgPool, invoice_ids: &[Uuid]) -> sqlx::Result<Vec<(Uuid, i64)>> {
    let ids: Vec<String> = invoice_ids.iter().map(Uuid::to_string).collect();
    sqlx::query_as(
        "SELECT aggregate_id::uuid, count(*) FROM events
          WHERE aggregate_type = 'Invoice' AND event_type = 'InvoiceReminderSent'
            AND aggregate_id = ANY($1)
          GROUP BY 1",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await
}

/// The family's login, its e-mail address.
pub async fn family_email(pool: &PgPool, family_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT login FROM users WHERE family_id = $1 AND role = 'family' LIMIT 1")
        .bind(family_id)
        .fetch_optional(pool)
        .await
}
