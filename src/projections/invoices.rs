//! The invoices read model: every `InvoiceIssued` event as a row finance and families read.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Pace, Projection, StoredEvent};
use crate::domain::invoice::{self, InvoiceKind};
use crate::domain::upcasting;

pub struct InvoicesProjection;

pub const NAME: &str = "invoices";

#[async_trait]
impl Projection for InvoicesProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Read by pages off the rush's path: a request that waits for it wakes it.
    fn pace(&self) -> Pace {
        Pace::OnDemand
    }

    fn tables(&self) -> &'static [&'static str] {
        &["invoice_view"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        self.apply_all(tx, std::slice::from_ref(event)).await
    }

    /// A batch's invoices in one statement (row by row, a replay was round trips). The
    /// document is the event's payload as it is: decoding and re-encoding its lines' dates was
    /// most of this projection's time. It is copied from the log's own `jsonb`, found by its
    /// position, not sent back as text: parsing the text into `jsonb` again was most of the
    /// statement's time (71 ms for a replay's 2,136 documents, against 11 ms to copy them).
    /// That copy is the payload as stored, so `InvoiceIssued` may have no upcaster (see the
    /// test `invoices_have_no_upcaster_since_their_documents_are_copied_from_the_log`).
    async fn apply_all(&self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
        let mut rows = Rows::default();
        for event in events {
            if event.aggregate_type != invoice::AGGREGATE_TYPE
                || event.event_type != invoice::EVENT_TYPE
            {
                continue;
            }
            anyhow::ensure!(
                !upcasting::needs_upcast(&event.event_type, &event.event_version),
                "{} {} needs an upcast: its document cannot be copied from the log as stored",
                event.event_type,
                event.event_version
            );
            let issued: IssuedSummary = serde_json::from_str(&event.payload)?;
            rows.id.push(issued.invoice_id);
            rows.organisation_id.push(issued.issuer.id);
            rows.family_id.push(issued.family_id);
            rows.number.push(issued.number);
            rows.kind.push(issued.kind.as_str());
            rows.issued_at.push(issued.issued_at);
            rows.period_month.push(issued.month);
            rows.payment_id.push(issued.payment_id);
            rows.total.push(issued.total);
            rows.position.push(event.position.global_position);
        }
        if rows.id.is_empty() {
            return Ok(());
        }
        let inserted = sqlx::query(
            "INSERT INTO invoice_view (id, organisation_id, family_id, number, kind, issued_at,
                period_month, payment_id, total, document)
             SELECT u.id, u.organisation_id, u.family_id, u.number, u.kind, u.issued_at,
                    u.period_month, u.payment_id, u.total, e.payload
               FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[],
                      $6::timestamptz[], $7::text[], $8::uuid[], $9::numeric[], $10::bigint[])
                    AS u(id, organisation_id, family_id, number, kind, issued_at, period_month,
                         payment_id, total, position)
               JOIN events e ON e.global_position = u.position",
        )
        .bind(&rows.id)
        .bind(&rows.organisation_id)
        .bind(&rows.family_id)
        .bind(&rows.number)
        .bind(&rows.kind)
        .bind(&rows.issued_at)
        .bind(&rows.period_month)
        .bind(&rows.payment_id)
        .bind(&rows.total)
        .bind(&rows.position)
        .execute(tx)
        .await?
        .rows_affected();
        anyhow::ensure!(
            inserted == rows.id.len() as u64,
            "{} invoices of {} found in the log",
            inserted,
            rows.id.len()
        );
        Ok(())
    }
}

/// What the read models take from an `InvoiceIssued` event: all of it but the days of its
/// lines, the bulk of the payload, which the documents keep as they are.
#[derive(Deserialize, Debug, PartialEq)]
pub(crate) struct IssuedSummary {
    pub invoice_id: Uuid,
    pub number: String,
    pub issuer: IssuerId,
    pub family_id: Uuid,
    pub kind: InvoiceKind,
    pub payment_id: Option<Uuid>,
    pub month: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub lines: Vec<LineSummary>,
    pub total: Decimal,
}

#[derive(Deserialize, Debug, PartialEq)]
pub(crate) struct IssuerId {
    pub id: Uuid,
}

#[derive(Deserialize, Debug, PartialEq)]
pub(crate) struct LineSummary {
    pub reservation_number: String,
    pub restaurant: String,
    pub amount: Decimal,
}

#[derive(Default)]
struct Rows {
    id: Vec<Uuid>,
    organisation_id: Vec<Uuid>,
    family_id: Vec<Uuid>,
    number: Vec<String>,
    kind: Vec<&'static str>,
    issued_at: Vec<DateTime<Utc>>,
    period_month: Vec<Option<String>>,
    payment_id: Vec<Option<Uuid>>,
    total: Vec<Decimal>,
    /// The event's position in the log, where its payload is copied from.
    position: Vec<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::invoice::{InvoiceIssued, InvoiceLine, Issuer};

    #[test]
    fn invoices_have_no_upcaster_since_their_documents_are_copied_from_the_log() {
        // An upcaster for invoices would need the projection to send the upcast text again
        // (the path this replaced) for the versions it upcasts.
        assert!(!upcasting::has_upcasters(invoice::EVENT_TYPE));
        assert!(upcasting::has_upcasters("ReservationRequested"));
    }

    #[test]
    fn the_summary_reads_what_the_event_says() {
        let issued = InvoiceIssued {
            invoice_id: Uuid::new_v4(),
            number: "2025-000042".into(),
            issuer: Issuer {
                id: Uuid::new_v4(),
                name: "Ville".into(),
                address: "Place de la Mairie".into(),
            },
            family_id: Uuid::new_v4(),
            family_name: "DUPONT".into(),
            kind: InvoiceKind::Payment,
            payment_id: Some(Uuid::new_v4()),
            month: None,
            issued_at: "2025-07-01T06:00:00Z".parse().unwrap(),
            lines: vec![InvoiceLine {
                reservation_id: Uuid::new_v4(),
                reservation_number: "N-1".into(),
                child: "Hervé DUPONT".into(),
                restaurant: "Le Repausset".into(),
                period: "2025-2026".into(),
                days: vec!["2025-09-01".parse().unwrap(), "2025-09-02".parse().unwrap()],
                quantity: 2,
                unit_price: "4.97".parse().unwrap(),
                amount: "9.94".parse().unwrap(),
            }],
            total: "9.94".parse().unwrap(),
        };
        let payload = serde_json::to_value(&issued).unwrap();
        let summary = IssuedSummary::deserialize(&payload).unwrap();
        assert_eq!(
            summary,
            IssuedSummary {
                invoice_id: issued.invoice_id,
                number: issued.number.clone(),
                issuer: IssuerId {
                    id: issued.issuer.id
                },
                family_id: issued.family_id,
                kind: issued.kind,
                payment_id: issued.payment_id,
                month: None,
                issued_at: issued.issued_at,
                lines: vec![LineSummary {
                    reservation_number: "N-1".into(),
                    restaurant: "Le Repausset".into(),
                    amount: "9.94".parse().unwrap(),
                }],
                total: issued.total,
            }
        );
        // The document stored is the payload, which is what the full event reads back from.
        assert_eq!(
            serde_json::from_value::<InvoiceIssued>(payload).unwrap(),
            issued
        );
    }
}
