//! Invoices and credit notes as read: the documents as issued (`invoice_view`), the days a
//! month bills, the cancellations still without their credit note, the family's name to print.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::invoice::InvoiceIssued;
use crate::domain::reservation::{DayStatus, ReservationEvent};

/// The family's name as it is now, printed on the documents issued now.
pub async fn family_name(pool: &PgPool, family_id: Uuid) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT name FROM families WHERE id = $1")
        .bind(family_id)
        .fetch_one(pool)
        .await
}

/// One booked day of a billed-later reservation, with the organisation that runs its
/// restaurant when it is not the town itself.
#[derive(sqlx::FromRow)]
pub struct BilledDay {
    pub family_id: Uuid,
    pub reservation_id: Uuid,
    pub number: i64,
    pub child: String,
    pub restaurant_name: String,
    pub period: String,
    pub date: NaiveDate,
    pub unit_price: Decimal,
    pub issuer_name: Option<String>,
    pub issuer_address: Option<String>,
}

/// The booked days (not cancelled) of billed-later reservations between `first` and `last`, of
/// one family or all, by family, then reservation, then date. A day's price is its own when the
/// row keeps a price a day, the row's one price otherwise (migration 0040).
pub async fn billed_days(
    pool: &PgPool,
    organisation_id: Uuid,
    first: NaiveDate,
    last: NaiveDate,
    family_id: Option<Uuid>,
) -> sqlx::Result<Vec<BilledDay>> {
    sqlx::query_as(
        "SELECT r.family_id, r.id AS reservation_id, r.number,
                r.child_first_name || ' ' || r.child_last_name AS child, r.restaurant_name,
                r.period_activity || ' ' || r.period_label AS period, d.date,
                coalesce(d.unit_price, r.unit_price) AS unit_price,
                s.issuer_name, s.issuer_address
           FROM reservation_view r
           CROSS JOIN unnest(r.dates, r.unit_prices) AS d(date, unit_price)
           LEFT JOIN restaurants s ON s.id = r.restaurant_id
          WHERE r.organisation_id = $1 AND r.payment_mode = 'postpaid'
            AND day_status(d.date = ANY(r.cancelled_dates), r.status) = $4
            AND d.date BETWEEN $2 AND $3
            AND ($5::uuid IS NULL OR r.family_id = $5)
          ORDER BY r.family_id, r.number, d.date",
    )
    .bind(organisation_id)
    .bind(first)
    .bind(last)
    .bind(DayStatus::Booked.as_str())
    .bind(family_id)
    .fetch_all(pool)
    .await
}

/// The documents (invoices and credit notes) issued so far for `month` of billed-later meals,
/// of one family or all: those keyed `month:{month}:…`, and the first invoice of a month as
/// issued before corrections existed (`monthly:{family}:{month}`).
pub async fn month_documents(
    pool: &PgPool,
    organisation_id: Uuid,
    month: &str,
    family_id: Option<Uuid>,
) -> anyhow::Result<Vec<InvoiceIssued>> {
    let (new_style, old_style) = match family_id {
        Some(family) => (
            format!("month:{month}:{family}:%"),
            format!("monthly:{family}:{month}"),
        ),
        None => (format!("month:{month}:%"), format!("monthly:%:{month}")),
    };
    let rows: Vec<sqlx::types::Json<InvoiceIssued>> = sqlx::query_scalar(
        "SELECT e.payload FROM invoice_keys k
           JOIN events e ON e.aggregate_type = 'Invoice' AND e.aggregate_id = k.invoice_id::text
          WHERE k.organisation_id = $1 AND (k.key LIKE $2 OR k.key LIKE $3)
          ORDER BY e.global_position",
    )
    .bind(organisation_id)
    .bind(new_style)
    .bind(old_style)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|doc| doc.0).collect())
}

/// A cancellation that credits money, whose credit note is not issued yet.
pub struct UncreditedCancellation {
    pub reservation_id: Uuid,
    pub sequence: i64,
    pub days: Vec<NaiveDate>,
}

/// The cancellations still without their credit note (keyed `credit:{reservation}:{sequence}`),
/// for one reservation or for all, in the log's order.
pub async fn uncredited_cancellations(
    pool: &PgPool,
    organisation_id: Uuid,
    reservation_id: Option<Uuid>,
) -> anyhow::Result<Vec<UncreditedCancellation>> {
    // Version 1.0 of `DaysCancelled` credited nothing: the filter on `credited` skips it.
    let rows: Vec<(String, i64, String, Value)> = sqlx::query_as(
        "SELECT e.aggregate_id, e.sequence, e.event_version, e.payload FROM events e
          WHERE e.aggregate_type = 'Reservation' AND e.event_type = 'DaysCancelled'
            AND ($2::text IS NULL OR e.aggregate_id = $2)
            AND (e.payload->'DaysCancelled'->>'credited')::numeric > 0
            AND NOT EXISTS (SELECT 1 FROM invoice_keys k WHERE k.organisation_id = $1
                               AND k.key = 'credit:' || e.aggregate_id || ':' || e.sequence)
          ORDER BY e.global_position",
    )
    .bind(organisation_id)
    .bind(reservation_id.map(|id| id.to_string()))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(aggregate_id, sequence, version, payload)| {
            let (_, payload) =
                crate::domain::upcasting::upcast("DaysCancelled", &version, payload)?;
            let ReservationEvent::DaysCancelled(cancelled) = serde_json::from_value(payload)?
            else {
                anyhow::bail!("event {aggregate_id}/{sequence} is not a cancellation");
            };
            Ok(UncreditedCancellation {
                reservation_id: aggregate_id.parse()?,
                sequence,
                days: cancelled.days,
            })
        })
        .collect()
}

/// The numbers of the invoices issued under `key` (a payment's invoice).
pub async fn numbers_with_key(
    pool: &PgPool,
    organisation_id: Uuid,
    key: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT e.payload->>'number' FROM invoice_keys k
           JOIN events e ON e.aggregate_type = 'Invoice' AND e.aggregate_id = k.invoice_id::text
          WHERE k.organisation_id = $1 AND k.key = $2",
    )
    .bind(organisation_id)
    .bind(key)
    .fetch_all(pool)
    .await
}

/// The family's invoices and credit notes as issued, the latest first.
pub async fn of_family(pool: &PgPool, family_id: Uuid) -> sqlx::Result<Vec<InvoiceIssued>> {
    let rows: Vec<sqlx::types::Json<InvoiceIssued>> = sqlx::query_scalar(
        "SELECT document FROM invoice_view WHERE family_id = $1 ORDER BY issued_at DESC, number DESC",
    )
    .bind(family_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|doc| doc.0).collect())
}

/// One document as issued, read from the log (not the read model, which may lag).
pub async fn document(pool: &PgPool, invoice_id: Uuid) -> anyhow::Result<Option<InvoiceIssued>> {
    let row: Option<sqlx::types::Json<InvoiceIssued>> = sqlx::query_scalar(
        "SELECT payload FROM events WHERE aggregate_type = 'Invoice' AND aggregate_id = $1",
    )
    .bind(invoice_id.to_string())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|doc| doc.0))
}
