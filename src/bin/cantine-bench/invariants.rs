//! What must hold after the run (bench.md), checked against the event log in SQL: each check
//! recounts from `events` (payloads, not the read model's code) and compares.

use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::server::Servers;
use crate::setup::Environment;
use crate::workload::Outcome;

pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

fn verdict(name: &str, passed: bool, detail: impl Into<String>) -> Check {
    Check {
        name: name.to_string(),
        passed,
        detail: detail.into(),
    }
}

async fn scalar(pool: &PgPool, sql: &str) -> anyhow::Result<i64> {
    let (n,): (Option<i64>,) = sqlx::query_as(sql).fetch_one(pool).await?;
    Ok(n.unwrap_or(0))
}

/// Each reservation day's state per the event log: requested days from `ReservationRequested`
/// (2.0 writes runs of days with their `dates`, 1.x each day with its `date`),
/// cancelled ones from `DaysCancelled`, the others following the last of confirmed / paid /
/// expired (a prepaid confirmation awaits payment, a postpaid one books).
const DAYS_FROM_LOG: &str = "
    WITH requested AS (
        SELECT e.aggregate_id, (e.payload->'ReservationRequested'->'period'->>'id')::uuid AS period_id,
               COALESCE(run.date, d->>'date')::date AS date
          FROM events e
         CROSS JOIN LATERAL jsonb_array_elements(e.payload->'ReservationRequested'->'days') d
          LEFT JOIN LATERAL jsonb_array_elements_text(d->'dates') run(date) ON true
         WHERE e.aggregate_type = 'Reservation' AND e.event_type = 'ReservationRequested'),
    last_state AS (
        SELECT DISTINCT ON (aggregate_id) aggregate_id, event_type, payload
          FROM events
         WHERE aggregate_type = 'Reservation'
           AND event_type IN ('ReservationConfirmed', 'ReservationPaid', 'ReservationExpired')
         ORDER BY aggregate_id, sequence DESC),
    cancelled AS (
        SELECT DISTINCT e.aggregate_id, (c #>> '{}')::date AS date
          FROM events e, jsonb_array_elements(e.payload->'DaysCancelled'->'days') c
         WHERE e.aggregate_type = 'Reservation' AND e.event_type = 'DaysCancelled')
    SELECT r.period_id, r.date,
           CASE WHEN c.date IS NOT NULL THEN 'cancelled'
                WHEN s.event_type IS NULL THEN 'requested'
                WHEN s.event_type = 'ReservationExpired' THEN 'expired'
                WHEN s.event_type = 'ReservationPaid' THEN 'booked'
                WHEN s.payload->'ReservationConfirmed'->>'pay_before' IS NULL THEN 'booked'
                ELSE 'awaiting_payment' END AS status
      FROM requested r
      LEFT JOIN last_state s ON s.aggregate_id = r.aggregate_id
      LEFT JOIN cancelled c ON c.aggregate_id = r.aggregate_id AND c.date = r.date";

/// Every check, in every town: with several towns, each check passes when it passes in every
/// one of them, and says which failed.
pub async fn check(
    env: &Environment,
    outcome: &Outcome,
    servers: &Servers,
) -> anyhow::Result<Vec<Check>> {
    let mut per_town = Vec::with_capacity(env.towns.len());
    for (index, town) in env.towns.iter().enumerate() {
        per_town.push(check_town(&town.pool, index, town.host.as_deref(), outcome, servers).await?);
    }
    if per_town.len() == 1 {
        return Ok(per_town.pop().expect("one town"));
    }
    let towns = per_town.len();
    let mut merged = Vec::new();
    for (k, first) in per_town[0].iter().enumerate() {
        let mut failing = Vec::new();
        for (index, checks) in per_town.iter().enumerate() {
            let check = checks
                .get(k)
                .filter(|c| c.name == first.name)
                .ok_or_else(|| anyhow::anyhow!("the towns' checks differ at {:?}", first.name))?;
            if !check.passed {
                failing.push((index, check));
            }
        }
        let detail = match failing.first() {
            None => format!("in each of the {towns} towns; the first: {}", first.detail),
            Some((index, check)) => format!(
                "{} of the {towns} towns fail, the first {}: {}",
                failing.len(),
                env.towns[*index].host.as_deref().unwrap_or("-"),
                check.detail
            ),
        };
        merged.push(verdict(&first.name, failing.is_empty(), detail));
    }
    Ok(merged)
}

/// The checks of one town, against its own log and read model (`pool` reads its schema).
async fn check_town(
    pool: &PgPool,
    town: usize,
    host: Option<&str>,
    outcome: &Outcome,
    servers: &Servers,
) -> anyhow::Result<Vec<Check>> {
    let mut checks = Vec::new();

    // Headcounts (per period, day and status) from the log equal the read model's.
    let (log_days, mismatched): (Option<i64>, Option<i64>) = sqlx::query_as(&format!(
        "WITH from_log AS (SELECT period_id, date, status, count(*) AS n FROM ({DAYS_FROM_LOG}) x
                            GROUP BY 1, 2, 3),
              from_view AS (SELECT r.period_id, d.date,
                                   day_status(d.date = ANY(r.cancelled_dates), r.status) AS status,
                                   count(*) AS n
                              FROM reservation_view r, unnest(r.dates) AS d(date)
                             GROUP BY 1, 2, 3)
         SELECT (SELECT sum(n) FROM from_log WHERE status IN ('booked', 'awaiting_payment'))::bigint,
                count(*) FILTER (WHERE l.n IS DISTINCT FROM v.n)
           FROM from_log l FULL JOIN from_view v USING (period_id, date, status)"
    ))
    .fetch_one(pool)
    .await?;
    let mismatched = mismatched.unwrap_or(0);
    checks.push(verdict(
        "booked child-days counted from the event log equal the read model (per period, day, status)",
        mismatched == 0,
        format!(
            "{} child-days booked or held per the log; {mismatched} (period, day, status) counts differ",
            log_days.unwrap_or(0)
        ),
    ));

    // No day over its capacity (holds count until they expire).
    let (over, fullest): (Option<i64>, Option<String>) = sqlx::query_as(&format!(
        "WITH held AS (SELECT period_id, date, count(*) AS n FROM ({DAYS_FROM_LOG}) x
                        WHERE status IN ('booked', 'awaiting_payment') GROUP BY 1, 2)
         SELECT count(*) FILTER (WHERE h.n > p.capacity),
                max(h.n::text || '/' || p.capacity::text) FILTER (WHERE h.n > p.capacity)
           FROM held h JOIN periods p ON p.id = h.period_id"
    ))
    .fetch_one(pool)
    .await?;
    let over = over.unwrap_or(0);
    let max_fill = scalar(
        pool,
        &format!(
            "WITH held AS (SELECT period_id, date, count(*) AS n FROM ({DAYS_FROM_LOG}) x
                            WHERE status IN ('booked', 'awaiting_payment') GROUP BY 1, 2)
             SELECT max((100 * h.n / GREATEST(p.capacity, 1)))::bigint
               FROM held h JOIN periods p ON p.id = h.period_id"
        ),
    )
    .await?;
    checks.push(verdict(
        "no day over its capacity",
        over == 0,
        if over == 0 {
            format!("fullest day at {max_fill} % of its capacity")
        } else {
            format!(
                "{over} (period, day) over capacity, e.g. {} held/capacity",
                fullest.unwrap_or_default()
            )
        },
    ));

    // Every paid reservation has an invoice, of its payment, with a line for it.
    let paid = scalar(
        pool,
        "SELECT count(*) FROM events WHERE event_type = 'ReservationPaid'",
    )
    .await?;
    let paid_without_invoice = scalar(
        pool,
        "SELECT count(*) FROM events p
           JOIN events r ON r.aggregate_id = p.aggregate_id AND r.event_type = 'ReservationRequested'
          WHERE p.event_type = 'ReservationPaid'
            AND NOT EXISTS (
                SELECT 1 FROM events i, jsonb_array_elements(i.payload->'lines') l
                 WHERE i.event_type = 'InvoiceIssued'
                   AND i.payload->>'payment_id' = p.payload->'ReservationPaid'->>'payment_id'
                   AND l->>'reservation_id' = p.aggregate_id)",
    )
    .await?;
    let succeeded_without_invoice = scalar(
        pool,
        "SELECT count(*) FROM payments p WHERE status = 'succeeded'
            AND NOT EXISTS (SELECT 1 FROM events i
                             WHERE i.event_type = 'InvoiceIssued' AND i.payload->>'kind' <> 'credit_note'
                               AND i.payload->>'payment_id' = p.id::text)
            -- A payment whose every reservation was refunded rightly has no invoice.
            AND (SELECT count(*) FROM refunds r WHERE r.payment_id = p.id) < cardinality(p.reservation_ids)",
    )
    .await?;
    checks.push(verdict(
        "every paid reservation has an invoice",
        paid_without_invoice == 0 && succeeded_without_invoice == 0,
        format!(
            "{paid} paid; {paid_without_invoice} without an invoice line; \
             {succeeded_without_invoice} succeeded payments without an invoice"
        ),
    ));
    let invoice_twice = scalar(
        pool,
        "SELECT count(*) FROM (SELECT payload->>'payment_id' FROM events
                                 WHERE event_type = 'InvoiceIssued' AND payload->>'payment_id' IS NOT NULL
                                   AND payload->>'kind' <> 'credit_note'
                                 GROUP BY 1 HAVING count(*) > 1) x",
    )
    .await?;
    checks.push(verdict(
        "no invoice issued twice for one payment",
        invoice_twice == 0,
        format!("{invoice_twice} payments with more than one invoice"),
    ));

    // Every expired reservation holds no place; every unpaid one has expired.
    let expired_holding = scalar(
        pool,
        "SELECT count(*) FROM reservation_view r, unnest(r.dates) AS d(date)
          WHERE day_status(d.date = ANY(r.cancelled_dates), r.status) IN ('booked', 'awaiting_payment')
            AND EXISTS (SELECT 1 FROM events e WHERE e.aggregate_type = 'Reservation'
                           AND e.aggregate_id = r.id::text
                           AND e.event_type = 'ReservationExpired')",
    )
    .await?;
    let still_awaiting = scalar(
        pool,
        "SELECT count(*) FROM reservation_view WHERE status = 'awaiting_payment'",
    )
    .await?;
    let expired_events = scalar(
        pool,
        "SELECT count(*) FROM events WHERE event_type = 'ReservationExpired'",
    )
    .await?;
    checks.push(verdict(
        "every expired reservation holds no place",
        expired_holding == 0 && still_awaiting == 0,
        format!(
            "{} expired; {expired_holding} days of expired reservations still held; \
             {still_awaiting} reservations still awaiting payment after the deadline",
            expired_events
        ),
    ));
    let expired_twice = scalar(
        pool,
        "SELECT count(*) FROM (SELECT aggregate_id FROM events WHERE event_type = 'ReservationExpired'
                                 GROUP BY 1 HAVING count(*) > 1) x",
    )
    .await?;
    checks.push(verdict(
        "no reservation expired twice",
        expired_twice == 0,
        format!("{expired_twice} reservations with two ReservationExpired events"),
    ));
    // Paid and expired: the money was taken and the meal released (refund due).
    let paid_and_expired = scalar(
        pool,
        "SELECT count(DISTINCT p.aggregate_id) FROM events p JOIN events x
             ON x.aggregate_id = p.aggregate_id AND x.event_type = 'ReservationExpired'
          WHERE p.event_type = 'ReservationPaid'",
    )
    .await?;
    let succeeded_but_expired = scalar(
        pool,
        "SELECT count(*) FROM payments p, unnest(p.reservation_ids) r
          WHERE p.status = 'succeeded'
            AND EXISTS (SELECT 1 FROM events e WHERE e.aggregate_id = r::text
                           AND e.event_type = 'ReservationExpired')
            AND NOT EXISTS (SELECT 1 FROM events e WHERE e.aggregate_id = r::text
                               AND e.event_type IN ('ReservationPaid', 'ReservationReinstated'))
            AND NOT EXISTS (SELECT 1 FROM refunds f WHERE f.payment_id = p.id AND f.reservation_id = r)",
    )
    .await?;
    checks.push(verdict(
        "no succeeded payment for a reservation that expired instead",
        paid_and_expired == 0 && succeeded_but_expired == 0,
        format!(
            "{paid_and_expired} paid and expired; {succeeded_but_expired} reservations in a \
             succeeded payment that expired unpaid and were neither reinstated nor refunded"
        ),
    ));

    // Every success a client saw is in the log.
    let expected: Vec<_> = outcome.expected.iter().filter(|e| e.town == town).collect();
    let ids: Vec<String> = expected
        .iter()
        .map(|e| e.reservation_id.to_string())
        .collect();
    let types: Vec<String> = expected.iter().map(|e| e.event_type.to_string()).collect();
    let invoices_seen: Vec<&str> = outcome
        .invoices_seen
        .iter()
        .filter(|(t, _)| *t == town)
        .map(|(_, number)| number.as_str())
        .collect();
    let missing: Vec<(String, String)> = sqlx::query_as(
        "SELECT x.id, x.event_type FROM unnest($1::text[], $2::text[]) AS x(id, event_type)
          WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.aggregate_type = 'Reservation'
                               AND e.aggregate_id = x.id AND e.event_type = x.event_type)",
    )
    .bind(&ids)
    .bind(&types)
    .fetch_all(pool)
    .await?;
    let invoices_missing: Vec<(String,)> = sqlx::query_as(
        "SELECT n FROM unnest($1::text[]) AS n
          WHERE NOT EXISTS (SELECT 1 FROM events i WHERE i.event_type = 'InvoiceIssued' AND i.payload->>'number' = n)",
    )
    .bind(&invoices_seen)
    .fetch_all(pool)
    .await?;
    checks.push(verdict(
        "every command the clients saw succeed is in the log",
        missing.is_empty() && invoices_missing.is_empty(),
        format!(
            "{} successes and {} invoice numbers seen; missing: {} events{}, {} invoices",
            ids.len(),
            invoices_seen.len(),
            missing.len(),
            missing
                .first()
                .map(|(id, t)| format!(" (e.g. {t} of {id})"))
                .unwrap_or_default(),
            invoices_missing.len()
        ),
    ));

    // The e-mails the run caused (issue 18), when the server has the outbox.
    if scalar(
        pool,
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'mail_outbox'",
    )
    .await?
        > 0
    {
        checks.push(outbox(pool).await?);
    }

    // `cantine audit verify` (issue 3), when the server has it.
    if servers.has_subcommand("audit") {
        let (ok, output) = servers.run_command(host, &["audit", "verify"])?;
        let last = output.lines().last().unwrap_or("").to_string();
        checks.push(verdict("cantine audit verify", ok, last));
    }
    Ok(checks)
}

/// Every e-mail the run's events caused is sent and none failed; with how many were still
/// waiting in the outbox when the run settled and how fast the sender then drained them (the
/// outbox's throughput with a backlog; with none, the sender kept up with the run).
async fn outbox(pool: &PgPool) -> anyhow::Result<Check> {
    const DRAIN_LIMIT: Duration = Duration::from_secs(300);
    let counts = || async {
        sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT count(*) FILTER (WHERE status = 'pending'),
                    count(*) FILTER (WHERE status = 'sent'),
                    count(*) FILTER (WHERE status = 'failed')
               FROM mail_outbox",
        )
        .fetch_one(pool)
        .await
    };
    let start = Instant::now();
    let (waiting, sent_before, _) = counts().await?;
    let mut now = counts().await?;
    while now.0 > 0 && start.elapsed() < DRAIN_LIMIT {
        tokio::time::sleep(Duration::from_millis(100)).await;
        now = counts().await?;
    }
    let drain = start.elapsed().as_secs_f64();
    let (pending, sent, failed) = now;
    let rate = if waiting > 0 && drain > 0.0 {
        format!(
            ", drained in {drain:.1} s ({:.0} e-mails/s)",
            (sent - sent_before) as f64 / drain
        )
    } else {
        String::new()
    };
    Ok(verdict(
        "every e-mail the run caused is sent through the outbox, none failed",
        sent > 0 && pending == 0 && failed == 0,
        format!(
            "{} e-mails ({sent} sent, {failed} failed, {pending} pending); \
             {waiting} waiting when the run settled{rate}",
            sent + failed + pending
        ),
    ))
}
