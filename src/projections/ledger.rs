//! The families' ledger: every charge (invoice), credit (credit note), payment and refund, one
//! row per restaurant it concerns, signed from the family's side (what it owes is negative).
//! A family's balance is the sum of its rows; finance's month reconciliation sums them by
//! restaurant.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::invoices::IssuedSummary;
use super::{Pace, Projection, StoredEvent};
use crate::domain::invoice::{self, InvoiceKind};
use crate::domain::payment::{self, PaymentEvent, PaymentStarted};

pub struct LedgerProjection;

pub const NAME: &str = "ledger";

#[async_trait]
impl Projection for LedgerProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Read by pages off the rush's path: a request that waits for it wakes it.
    fn pace(&self) -> Pace {
        Pace::OnDemand
    }

    fn tables(&self) -> &'static [&'static str] {
        &["ledger_view"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        self.apply_all(tx, std::slice::from_ref(event)).await
    }

    /// A batch's entries in one statement, and the first events of the payments it settles in
    /// one more: row by row, a replay spent most of this projection's time in round trips.
    async fn apply_all(&self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
        let mut starts = PaymentStarts::default();
        let mut decoded = Vec::new();
        for event in events {
            match event.aggregate_type.as_str() {
                invoice::AGGREGATE_TYPE if event.event_type == invoice::EVENT_TYPE => {
                    let issued: IssuedSummary = event.decode()?;
                    decoded.push((event, Decoded::Invoice(issued)));
                }
                payment::AGGREGATE_TYPE => match event.decode()? {
                    PaymentEvent::PaymentStarted(started) => {
                        starts.found(&event.aggregate_id, started);
                    }
                    other => {
                        if settles(&other) {
                            starts.wanted(&event.aggregate_id);
                        }
                        decoded.push((event, Decoded::Payment(other)));
                    }
                },
                _ => {}
            }
        }
        starts.load_missing(tx).await?;
        let mut rows = Rows::default();
        for (event, decoded) in decoded {
            let entries = match decoded {
                Decoded::Invoice(issued) => invoice_ledger_entries(&issued),
                Decoded::Payment(payment) => {
                    payment_entries(&starts, &event.aggregate_id, payment)?
                }
            };
            for (line, entry) in entries.into_iter().enumerate() {
                rows.push(event.position.global_position, line as i32, entry);
            }
        }
        rows.insert(tx).await
    }
}

enum Decoded {
    Invoice(IssuedSummary),
    Payment(PaymentEvent),
}

fn invoice_ledger_entries(issued: &IssuedSummary) -> Vec<OwnedEntry> {
    invoice_entries(issued)
        .into_iter()
        .map(|(restaurant, label, amount)| OwnedEntry {
            organisation_id: issued.issuer.id,
            family_id: issued.family_id,
            entry: match issued.kind {
                InvoiceKind::CreditNote => "credit_note",
                _ => "invoice",
            },
            reference: issued.number.clone(),
            restaurant,
            label,
            amount,
            occurred_at: issued.issued_at,
        })
        .collect()
}

/// Whether the payment event writes entries, which name the family and split of its first event.
fn settles(event: &PaymentEvent) -> bool {
    match event {
        PaymentEvent::PaymentSucceeded(_) => true,
        PaymentEvent::RefundDue(refund) => !refund.amount.is_zero(),
        _ => false,
    }
}

struct OwnedEntry {
    organisation_id: Uuid,
    family_id: Uuid,
    entry: &'static str,
    reference: String,
    restaurant: String,
    label: String,
    amount: Decimal,
    occurred_at: DateTime<Utc>,
}

/// One entry per restaurant of the document: an invoice charges (negative), a credit note
/// credits (positive).
fn invoice_entries(issued: &IssuedSummary) -> Vec<(String, String, Decimal)> {
    let sign = match issued.kind {
        InvoiceKind::CreditNote => Decimal::ONE,
        InvoiceKind::Payment | InvoiceKind::Monthly => -Decimal::ONE,
    };
    let mut by_restaurant: Vec<(String, Vec<String>, Decimal)> = Vec::new();
    for line in &issued.lines {
        let reservation = format!("N° {}", line.reservation_number);
        match by_restaurant.iter_mut().find(|r| r.0 == line.restaurant) {
            Some(r) => {
                if !r.1.contains(&reservation) {
                    r.1.push(reservation);
                }
                r.2 += line.amount;
            }
            None => by_restaurant.push((line.restaurant.clone(), vec![reservation], line.amount)),
        }
    }
    let what = match issued.kind {
        InvoiceKind::CreditNote => "Avoir",
        InvoiceKind::Payment | InvoiceKind::Monthly => "Facture",
    };
    by_restaurant
        .into_iter()
        .map(|(restaurant, reservations, amount)| {
            (
                restaurant,
                format!("{what} {} ({})", issued.number, reservations.join(", ")),
                sign * amount,
            )
        })
        .collect()
}

/// A succeeded payment credits the cash of each reservation; a refund takes it back. The
/// family and the split come from the payment's first event.
fn payment_entries(
    starts: &PaymentStarts,
    payment_id: &str,
    decoded: PaymentEvent,
) -> anyhow::Result<Vec<OwnedEntry>> {
    // Desk payments carry all they book: each invoice's share, and the credit kept.
    match &decoded {
        PaymentEvent::DeskPaymentRecorded(desk) => {
            let label = format!(
                "{} {} (reçu {})",
                desk.method.french(),
                desk.reference,
                desk.receipt_number
            );
            return Ok(desk_entries(
                desk.organisation_id,
                desk.family_id,
                &desk.receipt_number,
                &desk.invoices,
                (&desk.restaurant, desk.credit_kept),
                &label,
                Decimal::ONE,
                desk.recorded_at,
            ));
        }
        PaymentEvent::DeskPaymentReversed(reversed) => {
            let label = format!(
                "Annulation de l'encaissement (reçu {}) : {}",
                reversed.receipt_number, reversed.reason
            );
            return Ok(desk_entries(
                reversed.organisation_id,
                reversed.family_id,
                &reversed.receipt_number,
                &reversed.invoices,
                (&reversed.restaurant, reversed.credit_taken_back),
                &label,
                -Decimal::ONE,
                reversed.reversed_at,
            ));
        }
        PaymentEvent::SepaDebitPresented(debit) => {
            let label = format!(
                "Prélèvement SEPA du {} (mandat {})",
                debit.collection_date.format("%d/%m/%Y"),
                debit.rum
            );
            return Ok(desk_entries(
                debit.organisation_id,
                debit.family_id,
                &debit.end_to_end_id,
                &debit.invoices,
                ("", Decimal::ZERO),
                &label,
                Decimal::ONE,
                debit.presented_at,
            ));
        }
        PaymentEvent::SepaDebitRejected(rejected) => {
            let label = format!(
                "Prélèvement SEPA rejeté ({} : {})",
                rejected.reason_code, rejected.reason
            );
            return Ok(desk_entries(
                rejected.organisation_id,
                rejected.family_id,
                &rejected.end_to_end_id,
                &rejected.invoices,
                ("", Decimal::ZERO),
                &label,
                -Decimal::ONE,
                rejected.rejected_at,
            ));
        }
        PaymentEvent::CreditRefunded(refund) => {
            return Ok(vec![OwnedEntry {
                organisation_id: refund.organisation_id,
                family_id: refund.family_id,
                entry: "refund",
                reference: refund.reference.clone(),
                restaurant: refund.restaurant.clone(),
                label: format!(
                    "Remboursement de l'avoir par virement ({})",
                    refund.reference
                ),
                amount: -refund.amount,
                occurred_at: refund.refunded_at,
            }]);
        }
        _ => {}
    }
    if !settles(&decoded) {
        return Ok(Vec::new());
    }
    let started = starts.get(payment_id)?;
    Ok(match decoded {
        PaymentEvent::PaymentSucceeded(succeeded) => started
            .allocations
            .iter()
            .filter(|a| !a.cash.is_zero())
            .map(|a| OwnedEntry {
                organisation_id: started.organisation_id,
                family_id: started.family_id,
                entry: "payment",
                reference: succeeded.provider_ref.clone(),
                restaurant: a.restaurant.clone(),
                label: format!("Paiement en ligne (N° {})", a.reservation_number),
                amount: a.cash,
                occurred_at: succeeded.succeeded_at,
            })
            .chain(
                started
                    .invoices
                    .iter()
                    .filter(|a| !a.cash.is_zero())
                    .map(|a| OwnedEntry {
                        organisation_id: started.organisation_id,
                        family_id: started.family_id,
                        entry: "payment",
                        reference: succeeded.provider_ref.clone(),
                        restaurant: a.restaurant.clone(),
                        label: format!("Paiement en ligne (facture {})", a.invoice_number),
                        amount: a.cash,
                        occurred_at: succeeded.succeeded_at,
                    }),
            )
            .collect(),
        PaymentEvent::RefundDue(refund) => vec![OwnedEntry {
            organisation_id: started.organisation_id,
            family_id: started.family_id,
            entry: "refund",
            reference: started.payment_id.to_string(),
            restaurant: refund.restaurant.clone(),
            label: format!(
                "Remboursement dû (N° {}, {})",
                refund.reservation_number, refund.reason
            ),
            amount: -refund.amount,
            occurred_at: refund.recorded_at,
        }],
        _ => Vec::new(),
    })
}

/// A desk payment's entries (or, with `sign` −1, its reversal's): one per invoice it paid and
/// one for the credit it kept.
#[allow(clippy::too_many_arguments)]
fn desk_entries(
    organisation_id: Uuid,
    family_id: Uuid,
    receipt_number: &str,
    invoices: &[payment::InvoiceAllocation],
    (restaurant, kept): (&str, Decimal),
    label: &str,
    sign: Decimal,
    occurred_at: DateTime<Utc>,
) -> Vec<OwnedEntry> {
    let entry = |restaurant: &str, amount: Decimal, what: String| OwnedEntry {
        organisation_id,
        family_id,
        entry: "payment",
        reference: receipt_number.to_string(),
        restaurant: restaurant.to_string(),
        label: what,
        amount: sign * amount,
        occurred_at,
    };
    invoices
        .iter()
        .filter(|a| !a.cash.is_zero())
        .map(|a| {
            entry(
                &a.restaurant,
                a.cash,
                format!("{label}, facture {}", a.invoice_number),
            )
        })
        .chain((!kept.is_zero()).then(|| entry(restaurant, kept, format!("{label}, avoir"))))
        .collect()
}

/// The first event of each payment a batch settles: from the batch when it is there, else
/// from the log itself (not a reference table: a rebuild reads the same).
#[derive(Default)]
struct PaymentStarts {
    known: HashMap<String, PaymentStarted>,
    missing: HashSet<String>,
}

impl PaymentStarts {
    fn found(&mut self, payment_id: &str, started: PaymentStarted) {
        self.missing.remove(payment_id);
        self.known.insert(payment_id.to_string(), started);
    }

    fn wanted(&mut self, payment_id: &str) {
        if !self.known.contains_key(payment_id) {
            self.missing.insert(payment_id.to_string());
        }
    }

    fn get(&self, payment_id: &str) -> anyhow::Result<&PaymentStarted> {
        self.known
            .get(payment_id)
            .ok_or_else(|| anyhow::anyhow!("payment {payment_id} has no PaymentStarted event"))
    }

    /// One read of the whole key per payment. In one statement (`aggregate_id = ANY($2)`, or
    /// a lateral join on the ids), the reads took 2.4 ms each under the opening-day rush
    /// against 0.02 ms for these; most payments start in the batch that settles them anyway.
    async fn load_missing(&mut self, tx: &mut PgConnection) -> anyhow::Result<()> {
        let ids: Vec<String> = self.missing.drain().collect();
        for payment_id in ids {
            let (version, payload): (String, serde_json::Value) = sqlx::query_as(
                "SELECT event_version, payload FROM events
                  WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = 1",
            )
            .bind(payment::AGGREGATE_TYPE)
            .bind(&payment_id)
            .fetch_one(&mut *tx)
            .await?;
            let (_, payload) =
                crate::domain::upcasting::upcast("PaymentStarted", &version, payload)?;
            match serde_json::from_value(payload)? {
                PaymentEvent::PaymentStarted(started) => {
                    self.known.insert(payment_id, started);
                }
                other => {
                    anyhow::bail!("payment {payment_id} starts with {}", other.event_type())
                }
            }
        }
        Ok(())
    }
}

/// A batch's rows, column by column, for one `unnest` insert.
#[derive(Default)]
struct Rows {
    position: Vec<i64>,
    line: Vec<i32>,
    organisation_id: Vec<Uuid>,
    family_id: Vec<Uuid>,
    entry: Vec<&'static str>,
    reference: Vec<String>,
    restaurant: Vec<String>,
    label: Vec<String>,
    amount: Vec<Decimal>,
    occurred_at: Vec<DateTime<Utc>>,
}

impl Rows {
    fn push(&mut self, position: i64, line: i32, e: OwnedEntry) {
        self.position.push(position);
        self.line.push(line);
        self.organisation_id.push(e.organisation_id);
        self.family_id.push(e.family_id);
        self.entry.push(e.entry);
        self.reference.push(e.reference);
        self.restaurant.push(e.restaurant);
        self.label.push(e.label);
        self.amount.push(e.amount);
        self.occurred_at.push(e.occurred_at);
    }

    async fn insert(self, tx: &mut PgConnection) -> anyhow::Result<()> {
        if self.position.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO ledger_view (position, line, organisation_id, family_id, entry, reference,
                restaurant, label, amount, occurred_at)
             SELECT * FROM unnest($1::bigint[], $2::int[], $3::uuid[], $4::uuid[], $5::text[],
                $6::text[], $7::text[], $8::text[], $9::numeric[], $10::timestamptz[])",
        )
        .bind(&self.position)
        .bind(&self.line)
        .bind(&self.organisation_id)
        .bind(&self.family_id)
        .bind(&self.entry)
        .bind(&self.reference)
        .bind(&self.restaurant)
        .bind(&self.label)
        .bind(&self.amount)
        .bind(&self.occurred_at)
        .execute(tx)
        .await?;
        Ok(())
    }
}
