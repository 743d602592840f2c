//! The invoices read model: every `InvoiceIssued` event as a row finance and families read.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Projection, StoredEvent};
use crate::domain::invoice::{self, InvoiceIssued};

pub struct InvoicesProjection;

pub const NAME: &str = "invoices";

#[async_trait]
impl Projection for InvoicesProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["invoice_view"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        self.apply_all(tx, std::slice::from_ref(event)).await
    }

    /// A batch's invoices in one statement (row by row, a replay was round trips).
    async fn apply_all(&self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
        let mut rows = Rows::default();
        for event in events {
            if event.aggregate_type != invoice::AGGREGATE_TYPE
                || event.event_type != invoice::EVENT_TYPE
            {
                continue;
            }
            let issued: InvoiceIssued = event.decode()?;
            rows.id.push(issued.invoice_id);
            rows.organisation_id.push(issued.issuer.id);
            rows.family_id.push(issued.family_id);
            rows.number.push(issued.number.clone());
            rows.kind.push(issued.kind.as_str());
            rows.issued_at.push(issued.issued_at);
            rows.period_month.push(issued.month.clone());
            rows.payment_id.push(issued.payment_id);
            rows.total.push(issued.total);
            rows.document.push(Json(issued));
        }
        if rows.id.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO invoice_view (id, organisation_id, family_id, number, kind, issued_at,
                period_month, payment_id, total, document)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[],
                $6::timestamptz[], $7::text[], $8::uuid[], $9::numeric[], $10::jsonb[])",
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
        .bind(&rows.document)
        .execute(tx)
        .await?;
        Ok(())
    }
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
    document: Vec<Json<InvoiceIssued>>,
}
