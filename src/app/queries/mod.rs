//! What people read, from the projections (through `crate::db`): typed answers, no JSON shapes.

pub mod audit;
pub mod day_range;
pub mod finance;
pub mod headcounts;
pub mod ledger;
pub mod operations;
