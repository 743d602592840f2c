//! What people read, from the projections (through `crate::db`): typed answers, no JSON shapes.

pub mod audit;
pub mod cart;
pub mod day_range;
pub mod debtors;
pub mod family;
pub mod family_file;
pub mod finance;
pub mod headcounts;
pub mod history;
pub mod invoices;
pub mod ledger;
pub mod operations;
pub mod roll_call;
