//! The families' ledger: every charge (invoice), credit (credit note), payment and refund, one
//! row per restaurant it concerns, signed from the family's side (what it owes is negative).
//! A family's balance is the sum of its rows; finance's month reconciliation sums them by
//! restaurant.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Projection, StoredEvent};
use crate::domain::invoice::{self, InvoiceIssued, InvoiceKind};
use crate::domain::payment::{self, PaymentEvent, PaymentStarted};

pub struct LedgerProjection;

pub const NAME: &str = "ledger";

#[async_trait]
impl Projection for LedgerProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["ledger_view"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        let entries = match event.aggregate_type.as_str() {
            invoice::AGGREGATE_TYPE if event.event_type == invoice::EVENT_TYPE => {
                let issued: InvoiceIssued = event.decode()?;
                invoice_entries(&issued)
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
            payment::AGGREGATE_TYPE => payment_entries(tx, event).await?,
            _ => return Ok(()),
        };
        for (line, e) in entries.iter().enumerate() {
            insert(tx, event, line as i32, e).await?;
        }
        Ok(())
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
fn invoice_entries(issued: &InvoiceIssued) -> Vec<(String, String, Decimal)> {
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
async fn payment_entries(
    tx: &mut PgConnection,
    event: &StoredEvent,
) -> anyhow::Result<Vec<OwnedEntry>> {
    let decoded: PaymentEvent = event.decode()?;
    Ok(match decoded {
        PaymentEvent::PaymentSucceeded(succeeded) => {
            let started = started_event(tx, &event.aggregate_id).await?;
            started
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
                .collect()
        }
        PaymentEvent::RefundDue(refund) if !refund.amount.is_zero() => {
            let started = started_event(tx, &event.aggregate_id).await?;
            vec![OwnedEntry {
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
            }]
        }
        _ => Vec::new(),
    })
}

/// The log itself, not a reference table: a rebuild reads the same.
async fn started_event(tx: &mut PgConnection, payment_id: &str) -> anyhow::Result<PaymentStarted> {
    let (version, payload): (String, serde_json::Value) = sqlx::query_as(
        "SELECT event_version, payload FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = 1",
    )
    .bind(payment::AGGREGATE_TYPE)
    .bind(payment_id)
    .fetch_one(tx)
    .await?;
    let (_, payload) = crate::domain::upcasting::upcast("PaymentStarted", &version, payload)?;
    match serde_json::from_value(payload)? {
        PaymentEvent::PaymentStarted(started) => Ok(started),
        other => anyhow::bail!("payment {payment_id} starts with {}", other.event_type()),
    }
}

async fn insert(
    tx: &mut PgConnection,
    event: &StoredEvent,
    line: i32,
    e: &OwnedEntry,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO ledger_view (position, line, organisation_id, family_id, entry, reference,
            restaurant, label, amount, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(event.position.global_position)
    .bind(line)
    .bind(e.organisation_id)
    .bind(e.family_id)
    .bind(e.entry)
    .bind(&e.reference)
    .bind(&e.restaurant)
    .bind(&e.label)
    .bind(e.amount)
    .bind(e.occurred_at)
    .execute(tx)
    .await?;
    Ok(())
}
