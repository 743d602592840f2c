//! Every few minutes, the credit notes a crash between a cancellation and its credit note may
//! have left out.

use crate::app::credit_notes::issue_missing;
use crate::app::Cantine;

pub fn spawn(state: Cantine) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match issue_missing(&state, None, "credit-note-sweep").await {
                Ok(issued) if !issued.is_empty() => {
                    tracing::warn!(count = issued.len(), "credit notes issued by the sweep")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = format!("{e:#}"), "credit note sweep failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(300)).await;
        }
    })
}
