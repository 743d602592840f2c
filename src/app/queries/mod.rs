//! What people read, from the projections (through `crate::db`): typed answers, no JSON shapes.

pub mod cart;
pub mod family;
pub mod history;
pub mod invoices;
