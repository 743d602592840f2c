//! Billed-later invoices go out by themselves: on the first days of each month, the previous
//! month's are issued (issuing is idempotent, so running again, or on two servers, adds none).

use chrono::Datelike;

use crate::app::invoicing::issue_month;
use crate::app::Cantine;

pub fn spawn(state: Cantine) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let today = state.clock.paris_today();
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
