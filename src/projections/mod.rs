//! Projections read the event log themselves, in commit-safe order, and save their checkpoint in
//! the same transaction as their rows: a crash can delay them, never make them skip or repeat.

pub mod audit_chain;
pub mod headcounts;
pub mod horizon;
pub mod invoices;
pub mod ledger;
pub mod notifications;
mod position;
mod progress;
pub mod projector;
pub mod rebuild;
pub mod reservations;
pub mod threads;
pub mod waitlist;
pub mod waitlist_promotion;

use std::sync::Arc;

pub use position::Position;
pub use progress::{BatchTimes, ProjectionProgress};
pub use projector::{
    catch_up, consumer_pool, run_projector, HeldWrites, Pace, PayloadsOf, Projection,
    ProjectorHandle, Replay, StoredEvent,
};
pub use threads::{place_service, ConsumerPlacement};

/// Every projection of the service, in a stable order.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(reservations::ReservationsProjection),
        Arc::new(invoices::InvoicesProjection),
        Arc::new(ledger::LedgerProjection),
        Arc::new(audit_chain::AuditChainProjection),
        Arc::new(waitlist::WaitlistProjection),
    ]
}

pub fn by_name(name: &str) -> Option<Arc<dyn Projection>> {
    all().into_iter().find(|p| p.name() == name)
}
