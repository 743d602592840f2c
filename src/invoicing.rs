//! Issues invoices: after a successful payment (prepaid) and per family and month (billed
//! later). The number is taken from a counter row in the same transaction that appends the
//! `InvoiceIssued` event, so numbers run without a gap, and a key row makes each invoice
//! issued once, even by two servers at the same time.

use chrono::{Datelike, NaiveDate};
use chrono_tz::Europe::Paris;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::clock::Clock;
use crate::db::reference::Organisation;
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
    let mut tx = pool.begin().await?;
    // The counter row is held from its increment to the commit, so every invoice of the town
    // queued behind the WAL flush of the one before (the largest wait of the opening-day rush).
    // This transaction commits without waiting for the flush, and `flush_barrier` waits for it
    // after the lock is gone: the caller hears of the invoice only once it is durable, and the
    // WAL being written in order, no later number can survive a crash that loses this one.
    let claimed = sqlx::query(
        "WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
         INSERT INTO invoice_keys (organisation_id, key, invoice_id)
         SELECT $1, $2, $3 FROM async
         ON CONFLICT DO NOTHING",
    )
    .bind(draft.issuer.id)
    .bind(key)
    .bind(draft.invoice_id)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() == 0 {
        return Ok(None);
    }
    let issued_at = clock.now();
    let year = issued_at.with_timezone(&Paris).year();
    let (sequence,): (i64,) = sqlx::query_as(
        "INSERT INTO invoice_counters (organisation_id, series, year, last_number) VALUES ($1, $2, $3, 1)
         ON CONFLICT (organisation_id, series, year) DO UPDATE SET last_number = invoice_counters.last_number + 1
         RETURNING last_number",
    )
    .bind(draft.issuer.id)
    .bind(draft.kind.series())
    .bind(year)
    .fetch_one(&mut *tx)
    .await?;
    let kind = draft.kind;
    let issued = invoice::issue(draft, kind.number(year, sequence), issued_at)?;
    if kind == InvoiceKind::CreditNote {
        // The credit is spendable from the moment its credit note exists, not before.
        sqlx::query(
            "INSERT INTO family_credits (family_id, available) VALUES ($1, $2)
             ON CONFLICT (family_id) DO UPDATE SET available = family_credits.available + $2",
        )
        .bind(issued.family_id)
        .bind(issued.total)
        .execute(&mut *tx)
        .await?;
    }
    let metadata =
        serde_json::json!({"actor": "system", "actor_role": "system", "request_id": request_id});
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ($1, $2, 1, $3, $4, $5, $6)",
    )
    .bind(invoice::AGGREGATE_TYPE)
    .bind(issued.invoice_id.to_string())
    .bind(invoice::EVENT_TYPE)
    .bind(invoice::EVENT_VERSION)
    .bind(serde_json::to_value(&issued)?)
    .bind(metadata)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
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
            AND r.status IN ('confirmed', 'paid') AND d.date <> ALL(r.cancelled_dates)
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
pub fn spawn_monthly_schedule(state: crate::app::AppState) -> tokio::task::JoinHandle<()> {
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
