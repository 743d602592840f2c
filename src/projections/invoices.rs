//! The invoices read model: every `InvoiceIssued` event as a row finance and families read.

use async_trait::async_trait;
use sqlx::types::Json;
use sqlx::PgConnection;

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
        if event.aggregate_type != invoice::AGGREGATE_TYPE
            || event.event_type != invoice::EVENT_TYPE
        {
            return Ok(());
        }
        let issued: InvoiceIssued = event.decode()?;
        sqlx::query(
            "INSERT INTO invoice_view (id, organisation_id, family_id, number, kind, issued_at, period_month,
                payment_id, total, document)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(issued.invoice_id)
        .bind(issued.issuer.id)
        .bind(issued.family_id)
        .bind(&issued.number)
        .bind(issued.kind.as_str())
        .bind(issued.issued_at)
        .bind(&issued.month)
        .bind(issued.payment_id)
        .bind(issued.total)
        .bind(Json(&issued))
        .execute(tx)
        .await?;
        Ok(())
    }
}
