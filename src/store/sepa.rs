//! SEPA direct debit's writes: a mandate's row with its event, the creditor's settings with
//! theirs, a month's collection batch (its file, one payments row and one `SepaDebitPresented`
//! event per invoice, and the batch's own event) and a rejection, each in one transaction.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Paris;
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::append::{append, NewEvent};
use super::commands::CommandMeta;
use crate::domain::payment::{
    self, InvoiceAllocation, PaymentEvent, PaymentStatus, SepaDebitPresented, SepaDebitRejected,
};
use crate::domain::sepa::{
    self, Batch, BatchEvent, BatchPrepared, Creditor, CreditorEvent, CreditorSet, Debit, Iban,
    MandateEvent, MandateRevoked, MandateSigned, SequenceType,
};

async fn append_event(
    tx: &mut PgConnection,
    aggregate_type: &str,
    id: impl ToString,
    sequence: i64,
    event_type: &str,
    payload: Value,
    meta: &CommandMeta,
) -> anyhow::Result<()> {
    let event = NewEvent::new(
        aggregate_type,
        id,
        sequence,
        event_type,
        sepa::EVENT_VERSION,
        payload,
        meta,
    );
    append(tx, &event).await?;
    Ok(())
}

/// Why a mandate is not recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum MandateRefused {
    /// Another mandate of the organisation has this RUM.
    RumTaken,
    /// The family already has a mandate in force (revoke it first).
    InForce,
}

/// Records a signed mandate: its row and its `MandateSigned` event.
pub async fn sign_mandate(
    pool: &PgPool,
    signed: &MandateSigned,
    now: DateTime<Utc>,
    meta: &CommandMeta,
) -> anyhow::Result<Result<(), MandateRefused>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM families WHERE id = $1 FOR UPDATE")
        .bind(signed.family_id)
        .execute(&mut *tx)
        .await?;
    let (in_force, rum_taken): (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM sepa_mandates WHERE family_id = $1 AND revoked_at IS NULL),
                EXISTS (SELECT 1 FROM sepa_mandates WHERE organisation_id = $2 AND rum = $3)",
    )
    .bind(signed.family_id)
    .bind(signed.organisation_id)
    .bind(&signed.rum)
    .fetch_one(&mut *tx)
    .await?;
    if rum_taken {
        return Ok(Err(MandateRefused::RumTaken));
    }
    if in_force {
        return Ok(Err(MandateRefused::InForce));
    }
    let inserted = sqlx::query(
        "INSERT INTO sepa_mandates (id, organisation_id, family_id, rum, iban, bic, holder, signed_on,
                                    sequence, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
    )
    .bind(signed.mandate_id)
    .bind(signed.organisation_id)
    .bind(signed.family_id)
    .bind(&signed.rum)
    .bind(signed.iban.as_str())
    .bind(&signed.bic)
    .bind(&signed.holder)
    .bind(signed.signed_on)
    .bind(signed.sequence.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        // Another request took the RUM between the check and the insert.
        return Ok(Err(MandateRefused::RumTaken));
    }
    append_event(
        &mut tx,
        sepa::MANDATE_AGGREGATE,
        signed.mandate_id,
        1,
        "MandateSigned",
        serde_json::to_value(MandateEvent::MandateSigned(signed.clone()))?,
        meta,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

#[derive(Debug, PartialEq, Eq)]
pub enum RevocationRefused {
    NotFound,
    AlreadyRevoked,
}

/// Revokes a mandate (the family closed its account, changed bank, or asked): its row says
/// when, and a `MandateRevoked` event says why.
pub async fn revoke_mandate(
    pool: &PgPool,
    organisation_id: Uuid,
    mandate_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
    meta: &CommandMeta,
) -> anyhow::Result<Result<MandateRevoked, RevocationRefused>> {
    let mut tx = pool.begin().await?;
    let row: Option<(Uuid, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT family_id, revoked_at FROM sepa_mandates
          WHERE id = $1 AND organisation_id = $2 FOR UPDATE",
    )
    .bind(mandate_id)
    .bind(organisation_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((family_id, revoked_at)) = row else {
        return Ok(Err(RevocationRefused::NotFound));
    };
    if revoked_at.is_some() {
        return Ok(Err(RevocationRefused::AlreadyRevoked));
    }
    sqlx::query("UPDATE sepa_mandates SET revoked_at = $2, revoked_reason = $3 WHERE id = $1")
        .bind(mandate_id)
        .bind(now)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
    let revoked = MandateRevoked {
        mandate_id,
        family_id,
        reason: reason.to_string(),
        revoked_on: now.with_timezone(&Paris).date_naive(),
    };
    append_event(
        &mut tx,
        sepa::MANDATE_AGGREGATE,
        mandate_id,
        2,
        "MandateRevoked",
        serde_json::to_value(MandateEvent::MandateRevoked(revoked.clone()))?,
        meta,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(revoked))
}

/// Sets the organisation's creditor settings, with their event (the aggregate's next sequence:
/// the organisation's row is locked meanwhile).
pub async fn set_creditor(
    pool: &PgPool,
    creditor: &CreditorSet,
    meta: &CommandMeta,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE organisations SET sepa_creditor_name = $2, sepa_creditor_id = $3, sepa_iban = $4,
                                  sepa_bic = $5
          WHERE id = $1",
    )
    .bind(creditor.organisation_id)
    .bind(&creditor.name)
    .bind(&creditor.creditor_id)
    .bind(creditor.iban.as_str())
    .bind(&creditor.bic)
    .execute(&mut *tx)
    .await?;
    let (sequence,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(max(sequence), 0) + 1 FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2",
    )
    .bind(sepa::CREDITOR_AGGREGATE)
    .bind(creditor.organisation_id.to_string())
    .fetch_one(&mut *tx)
    .await?;
    append_event(
        &mut tx,
        sepa::CREDITOR_AGGREGATE,
        creditor.organisation_id,
        sequence,
        "SepaCreditorSet",
        serde_json::to_value(CreditorEvent::SepaCreditorSet(creditor.clone()))?,
        meta,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A monthly invoice a batch may collect: unpaid, of a family whose mandate is in force, never
/// presented by direct debit and not in a payment under way.
#[derive(sqlx::FromRow)]
struct Collectable {
    invoice_id: Uuid,
    number: String,
    family_id: Uuid,
    restaurant: Option<String>,
    due: Decimal,
    mandate_id: Uuid,
    rum: String,
    iban: String,
    bic: String,
    holder: String,
    signed_on: NaiveDate,
    sequence: String,
    collected_before: bool,
}

/// The batch just made.
pub struct Prepared {
    pub batch: BatchPrepared,
    pub xml: String,
}

/// Makes the month's collection batch of what is collectable now, if anything is: in one
/// transaction (the organisation's row locked, so two batches never present one invoice),
/// the batch's number and file, one payments row and `SepaDebitPresented` event per invoice,
/// and the batch's `SepaBatchPrepared` event. `None` when nothing is left to collect.
pub async fn prepare_batch(
    pool: &PgPool,
    organisation_id: Uuid,
    creditor: &Creditor,
    month: &str,
    now: DateTime<Utc>,
    meta: &CommandMeta,
) -> anyhow::Result<Option<Prepared>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM organisations WHERE id = $1 FOR UPDATE")
        .bind(organisation_id)
        .execute(&mut *tx)
        .await?;
    let candidates: Vec<Collectable> = sqlx::query_as(
        "SELECT v.id AS invoice_id, v.number, v.family_id,
                v.document->'lines'->0->>'restaurant' AS restaurant,
                v.total - COALESCE(paid.amount, 0) AS due,
                m.id AS mandate_id, m.rum, m.iban, m.bic, m.holder, m.signed_on, m.sequence,
                EXISTS (SELECT 1 FROM payments d
                         WHERE d.sepa_mandate_id = m.id AND d.reversed_at IS NULL) AS collected_before
           FROM invoice_view v
           JOIN sepa_mandates m ON m.family_id = v.family_id AND m.revoked_at IS NULL
                               AND m.organisation_id = $1
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
          WHERE v.organisation_id = $1 AND v.kind = 'monthly' AND v.period_month = $2
            AND COALESCE(paid.amount, 0) < v.total
            AND NOT EXISTS (SELECT 1 FROM payments s
                             WHERE s.method = 'sepa' AND v.id = ANY(s.invoice_ids))
            AND NOT EXISTS (SELECT 1 FROM payments s
                             WHERE s.status = 'pending' AND v.id = ANY(s.invoice_ids))
          ORDER BY m.holder, v.number",
    )
    .bind(organisation_id)
    .bind(month)
    .fetch_all(&mut *tx)
    .await?;
    if candidates.is_empty() {
        return Ok(None);
    }
    let today = now.with_timezone(&Paris);
    let year = today.year();
    let (number,): (i64,) = sqlx::query_as(
        "INSERT INTO invoice_counters (organisation_id, series, year, last_number)
         VALUES ($1, 'sepa', $2, 1)
         ON CONFLICT (organisation_id, series, year)
            DO UPDATE SET last_number = invoice_counters.last_number + 1
         RETURNING last_number",
    )
    .bind(organisation_id)
    .bind(year)
    .fetch_one(&mut *tx)
    .await?;
    let message_id = format!("PRLV-{year}-{number:06}");
    let prenotified_on = today.date_naive();
    let collection_date = sepa::collection_date(prenotified_on);
    let batch_id = Uuid::now_v7();
    let mut debits = Vec::new();
    let mut events = Vec::new();
    for c in &candidates {
        let sequence = SequenceType::next(
            SequenceType::parse(&c.sequence).unwrap_or(SequenceType::First),
            c.collected_before,
        );
        let end_to_end_id = format!("{}-{number:06}", c.number);
        let iban = Iban::parse(&c.iban).map_err(|e| anyhow::anyhow!("mandate {}: {e}", c.rum))?;
        debits.push(Debit {
            end_to_end_id: end_to_end_id.clone(),
            amount: c.due,
            sequence,
            rum: c.rum.clone(),
            signed_on: c.signed_on,
            debtor_name: c.holder.clone(),
            iban,
            bic: c.bic.clone(),
            remittance: format!("Cantine {month} facture {}", c.number),
        });
        events.push(SepaDebitPresented {
            payment_id: Uuid::now_v7(),
            organisation_id,
            family_id: c.family_id,
            batch_id,
            mandate_id: c.mandate_id,
            rum: c.rum.clone(),
            sequence,
            end_to_end_id,
            amount: c.due,
            invoices: vec![InvoiceAllocation {
                invoice_id: c.invoice_id,
                invoice_number: c.number.clone(),
                restaurant: c.restaurant.clone().unwrap_or_default(),
                total: c.due,
                credit: Decimal::ZERO,
                cash: c.due,
            }],
            prenotified_on,
            collection_date,
            presented_at: now,
        });
    }
    let batch = Batch {
        message_id: message_id.clone(),
        created_at: today.naive_local(),
        prenotified_on,
        collection_date,
        creditor: creditor.clone(),
        debits,
    };
    let xml = sepa::pain008(&batch);
    let control_sum: Decimal = events.iter().map(|e| e.amount).sum();
    sqlx::query(
        "INSERT INTO sepa_batches (id, organisation_id, month, message_id, prenotified_on,
                                   collection_date, created_at, transactions, control_sum, xml)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(batch_id)
    .bind(organisation_id)
    .bind(month)
    .bind(&message_id)
    .bind(prenotified_on)
    .bind(collection_date)
    .bind(now)
    .bind(events.len() as i32)
    .bind(control_sum)
    .bind(&xml)
    .execute(&mut *tx)
    .await?;
    for debit in &events {
        let invoice_ids: Vec<Uuid> = debit.invoices.iter().map(|i| i.invoice_id).collect();
        sqlx::query(
            "INSERT INTO payments (id, family_id, reservation_ids, amount, credit_used, status,
                                   created_at, settled_at, version, invoice_ids, provider_ref,
                                   method, sepa_batch_id, sepa_mandate_id)
             VALUES ($1, $2, '{}', $3, 0, $4, $5, $5, 1, $6, $7, 'sepa', $8, $9)",
        )
        .bind(debit.payment_id)
        .bind(debit.family_id)
        .bind(debit.amount)
        .bind(PaymentStatus::Succeeded.as_str())
        .bind(now)
        .bind(&invoice_ids)
        .bind(&debit.end_to_end_id)
        .bind(batch_id)
        .bind(debit.mandate_id)
        .execute(&mut *tx)
        .await?;
        let event = PaymentEvent::SepaDebitPresented(debit.clone());
        let new = NewEvent::new(
            payment::AGGREGATE_TYPE,
            debit.payment_id,
            1,
            event.event_type(),
            event.event_version(),
            serde_json::to_value(&event)?,
            meta,
        );
        append(&mut tx, &new).await?;
    }
    let prepared = BatchPrepared {
        batch_id,
        organisation_id,
        month: month.to_string(),
        message_id,
        prenotified_on,
        collection_date,
        debits: events.iter().map(|e| e.payment_id).collect(),
        transactions: events.len(),
        control_sum,
    };
    append_event(
        &mut tx,
        sepa::BATCH_AGGREGATE,
        batch_id,
        1,
        "SepaBatchPrepared",
        serde_json::to_value(BatchEvent::SepaBatchPrepared(prepared.clone()))?,
        meta,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Prepared {
        batch: prepared,
        xml,
    }))
}

/// Which debit a rejection names.
pub enum DebitSelector {
    EndToEndId(String),
    /// The invoice's debit still standing.
    Invoice(Uuid),
}

#[derive(Debug, PartialEq, Eq)]
pub enum RejectionRefused {
    NotFound,
    AlreadyRejected,
}

/// Records a rejected debit: the payments row says when and why (its invoices are due again),
/// and a `SepaDebitRejected` event carries what the ledger takes back. Once per debit.
#[allow(clippy::too_many_arguments)]
pub async fn reject_debit(
    pool: &PgPool,
    organisation_id: Uuid,
    selector: &DebitSelector,
    reason_code: &str,
    reason: &str,
    source: &str,
    now: DateTime<Utc>,
    meta: &CommandMeta,
) -> anyhow::Result<Result<SepaDebitRejected, RejectionRefused>> {
    let mut tx = pool.begin().await?;
    let (by_reference, by_invoice) = match selector {
        DebitSelector::EndToEndId(id) => (Some(id.clone()), None),
        DebitSelector::Invoice(id) => (None, Some(*id)),
    };
    let row: Option<(Uuid, Option<DateTime<Utc>>, i64)> = sqlx::query_as(
        "SELECT p.id, p.reversed_at, p.version FROM payments p
           JOIN families f ON f.id = p.family_id
          WHERE f.organisation_id = $1 AND p.method = 'sepa'
            AND ($2::text IS NULL OR p.provider_ref = $2)
            AND ($3::uuid IS NULL OR $3 = ANY(p.invoice_ids))
          ORDER BY p.reversed_at IS NULL DESC, p.created_at DESC
          LIMIT 1
            FOR UPDATE OF p",
    )
    .bind(organisation_id)
    .bind(by_reference)
    .bind(by_invoice)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, reversed_at, version)) = row else {
        return Ok(Err(RejectionRefused::NotFound));
    };
    if reversed_at.is_some() {
        return Ok(Err(RejectionRefused::AlreadyRejected));
    }
    let (payload,): (Value,) = sqlx::query_as(
        "SELECT payload FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = 1",
    )
    .bind(payment::AGGREGATE_TYPE)
    .bind(id.to_string())
    .fetch_one(&mut *tx)
    .await?;
    let PaymentEvent::SepaDebitPresented(debit) = serde_json::from_value(payload)? else {
        return Ok(Err(RejectionRefused::NotFound));
    };
    sqlx::query(
        "UPDATE payments SET reversed_at = $2, reject_code = $3, version = version + 1 WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(reason_code)
    .execute(&mut *tx)
    .await?;
    let rejected = SepaDebitRejected {
        payment_id: id,
        organisation_id: debit.organisation_id,
        family_id: debit.family_id,
        end_to_end_id: debit.end_to_end_id,
        reason_code: reason_code.to_string(),
        reason: reason.to_string(),
        source: source.to_string(),
        amount: debit.amount,
        invoices: debit.invoices,
        rejected_at: now,
    };
    let event = PaymentEvent::SepaDebitRejected(rejected.clone());
    let new = NewEvent::new(
        payment::AGGREGATE_TYPE,
        id,
        version + 1,
        event.event_type(),
        event.event_version(),
        serde_json::to_value(&event)?,
        meta,
    );
    append(&mut tx, &new).await?;
    tx.commit().await?;
    Ok(Ok(rejected))
}
