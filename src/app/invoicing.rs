//! Issues invoices: after a successful payment (prepaid) and per family and month (billed
//! later). The number is taken from a counter row in the same transaction that appends the
//! `InvoiceIssued` event, so numbers run without a gap, and a key row makes each invoice
//! issued once, even by two servers at the same time.

use chrono::{Datelike, NaiveDate};
use chrono_tz::Europe::Paris;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::reference::Organisation;
use crate::domain::clock::Clock;
use crate::domain::invoice::{self, InvoiceDraft, InvoiceIssued, InvoiceKind, InvoiceLine, Issuer};
use crate::domain::period::month_bounds;
use crate::domain::reservation::ReservationRequested;

pub fn issuer(organisation: &Organisation) -> Issuer {
    Issuer {
        id: organisation.id,
        name: organisation.name.clone(),
        address: organisation.address.clone(),
    }
}

/// Issues `draft` unless an invoice with `key` exists. Answers the new invoice, if any.
pub async fn issue_once(
    pool: &PgPool,
    clock: &dyn Clock,
    key: &str,
    draft: InvoiceDraft,
    request_id: &str,
) -> anyhow::Result<Option<InvoiceIssued>> {
    let issued_at = clock.now();
    let year = issued_at.with_timezone(&Paris).year();
    let kind = draft.kind;
    // The number is the counter's, set in SQL; everything else of the invoice is decided here.
    let mut issued = invoice::issue(draft, String::new(), issued_at)?;
    let metadata =
        serde_json::json!({"actor": "system", "actor_role": "system", "request_id": request_id});
    // One statement, committed on its own: the key that makes the invoice issued once, the next
    // number of the gapless counter, the event carrying it, and for a credit note the family's
    // spendable credit. The counter row is held from its increment to the commit, so every
    // invoice of the town queues on it: held for one statement rather than a transaction's
    // round trips, and not through the WAL flush (the statement commits without waiting for it,
    // and `flush_barrier` waits after the lock is gone: the caller hears of the invoice only
    // once it is durable, and the WAL being written in order, no later number can survive a
    // crash that loses this one).
    let number: Option<(String,)> = sqlx::query_as(
        "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)),
              claimed AS (
                INSERT INTO invoice_keys (organisation_id, key, invoice_id)
                SELECT $1, $2, $3 FROM async
                ON CONFLICT DO NOTHING
                RETURNING organisation_id),
              counted AS (
                INSERT INTO invoice_counters (organisation_id, series, year, last_number)
                SELECT organisation_id, $4, $5, 1 FROM claimed
                ON CONFLICT (organisation_id, series, year)
                   DO UPDATE SET last_number = invoice_counters.last_number + 1
                RETURNING $6 || CASE WHEN last_number < 1000000 THEN lpad(last_number::text, 6, '0')
                                     ELSE last_number::text END AS number),
              credited AS (
                INSERT INTO family_credits (family_id, available)
                SELECT $7, $8 FROM counted WHERE $9
                ON CONFLICT (family_id) DO UPDATE SET available = family_credits.available + $8
                RETURNING 1),
              appended AS (
                INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                                    payload, metadata)
                SELECT $10, $3::text, 1, $11, $12, jsonb_set($13, '{number}', to_jsonb(number)), $14
                  FROM counted
                RETURNING payload->>'number' AS number)
         SELECT number FROM appended",
    )
    .bind(issued.issuer.id)
    .bind(key)
    .bind(issued.invoice_id)
    .bind(kind.series())
    .bind(year)
    .bind(kind.number_prefix(year))
    .bind(issued.family_id)
    .bind(issued.total)
    // The credit is spendable from the moment its credit note exists, not before.
    .bind(kind == InvoiceKind::CreditNote)
    .bind(invoice::AGGREGATE_TYPE)
    .bind(invoice::EVENT_TYPE)
    .bind(invoice::EVENT_VERSION)
    .bind(serde_json::to_value(&issued)?)
    .bind(metadata)
    .fetch_optional(pool)
    .await?;
    let Some((number,)) = number else {
        return Ok(None);
    };
    issued.number = number;
    flush_barrier(pool).await?;
    tracing::info!(invoice = %issued.number, family = %issued.family_id, total = %issued.total, "invoice issued");
    Ok(Some(issued))
}

/// Returns once everything committed before it is on disk: a transaction that is given an id
/// commits synchronously, which flushes the WAL up to its commit record, past every earlier one.
async fn flush_barrier(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(pool)
        .await?;
    Ok(())
}

/// The lines of `days` of one reservation, named as its request captured them.
pub fn reservation_lines(
    reservation_id: Uuid,
    requested: &ReservationRequested,
    days: &[(NaiveDate, Decimal)],
) -> Vec<InvoiceLine> {
    invoice::lines_for(
        reservation_id,
        &crate::domain::reservation::format_number(requested.number),
        &format!(
            "{} {}",
            requested.child.first_name, requested.child.last_name
        ),
        &requested.restaurant.name,
        &format!("{} {}", requested.period.activity, requested.period.label),
        days,
    )
}

pub async fn family_name(pool: &PgPool, family_id: Uuid) -> anyhow::Result<String> {
    let (name,): (String,) = sqlx::query_as("SELECT name FROM families WHERE id = $1")
        .bind(family_id)
        .fetch_one(pool)
        .await?;
    Ok(name)
}

pub fn payment_key(payment_id: Uuid) -> String {
    format!("payment:{payment_id}")
}

pub fn monthly_key(family_id: Uuid, month: &str) -> String {
    format!("monthly:{family_id}:{month}")
}

#[derive(sqlx::FromRow)]
struct BilledDay {
    family_id: Uuid,
    reservation_id: Uuid,
    number: i64,
    child: String,
    restaurant_name: String,
    period: String,
    date: NaiveDate,
    unit_price: Decimal,
}

/// Issues the billed-later invoices of `month`: one per family with booked days in it.
/// Answers the invoices issued now (a second run issues none).
pub async fn issue_month(
    pool: &PgPool,
    clock: &dyn Clock,
    organisation: &Organisation,
    month: &str,
    request_id: &str,
) -> anyhow::Result<Vec<InvoiceIssued>> {
    let (first, last) =
        month_bounds(month).ok_or_else(|| anyhow::anyhow!("month must be written YYYY-MM"))?;
    let days: Vec<BilledDay> = sqlx::query_as(
        "SELECT r.family_id, r.id AS reservation_id, r.number,
                r.child_first_name || ' ' || r.child_last_name AS child, r.restaurant_name,
                r.period_activity || ' ' || r.period_label AS period, d.date, d.unit_price
           FROM reservation_view r, unnest(r.dates, r.unit_prices) AS d(date, unit_price)
          WHERE r.organisation_id = $1 AND r.payment_mode = 'postpaid'
            AND day_status(d.date = ANY(r.cancelled_dates), r.status) = 'booked'
            AND d.date BETWEEN $2 AND $3
          ORDER BY r.family_id, r.number, d.date",
    )
    .bind(organisation.id)
    .bind(first)
    .bind(last)
    .fetch_all(pool)
    .await?;
    let mut issued = Vec::new();
    let mut start = 0;
    while start < days.len() {
        let family_id = days[start].family_id;
        let end = start
            + days[start..]
                .iter()
                .take_while(|d| d.family_id == family_id)
                .count();
        let mut lines: Vec<InvoiceLine> = Vec::new();
        let mut r = start;
        while r < end {
            let reservation = days[r].reservation_id;
            let stop = r + days[r..end]
                .iter()
                .take_while(|d| d.reservation_id == reservation)
                .count();
            let priced: Vec<(NaiveDate, Decimal)> = days[r..stop]
                .iter()
                .map(|d| (d.date, d.unit_price))
                .collect();
            let head = &days[r];
            lines.extend(invoice::lines_for(
                reservation,
                &crate::domain::reservation::format_number(head.number as u64),
                &head.child,
                &head.restaurant_name,
                &head.period,
                &priced,
            ));
            r = stop;
        }
        let draft = InvoiceDraft {
            invoice_id: Uuid::now_v7(),
            issuer: issuer(organisation),
            family_id,
            family_name: family_name(pool, family_id).await?,
            kind: InvoiceKind::Monthly,
            payment_id: None,
            month: Some(month.to_string()),
            lines,
        };
        if let Some(invoice) = issue_once(
            pool,
            clock,
            &monthly_key(family_id, month),
            draft,
            request_id,
        )
        .await?
        {
            issued.push(invoice);
        }
        start = end;
    }
    Ok(issued)
}

/// Billed-later invoices go out by themselves: on the first days of each month, the previous
/// month's are issued (issuing is idempotent, so running again, or on two servers, adds none).
pub fn spawn_monthly_schedule(state: crate::app::Cantine) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let today = state.clock.now().with_timezone(&Paris).date_naive();
            if today.day() <= 5 {
                let previous = today
                    .with_day(1)
                    .and_then(|d| d.pred_opt())
                    .map(|d| d.format("%Y-%m").to_string());
                if let Some(month) = previous {
                    state.fresh(crate::projections::reservations::NAME).await;
                    let request_id = format!("monthly-invoicing-{month}");
                    match issue_month(
                        &state.pool,
                        state.clock.as_ref(),
                        &state.organisation,
                        &month,
                        &request_id,
                    )
                    .await
                    {
                        Ok(issued) if !issued.is_empty() => {
                            tracing::info!(%month, count = issued.len(), "monthly invoices issued")
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::error!(%month, error = format!("{e:#}"), "monthly invoicing failed")
                        }
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    })
}
