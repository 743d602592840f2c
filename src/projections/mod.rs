//! Projections read the event log themselves, in commit-safe order, and save their checkpoint in
//! the same transaction as their rows: a crash can delay them, never make them skip or repeat.

mod progress;
mod projector;
pub mod reservations;

pub use progress::ProjectionProgress;
pub use projector::{catch_up, run_projector, Projection, ProjectorHandle, StoredEvent};
