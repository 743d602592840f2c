//! What runs by itself, on the clock: expiring unpaid holds, the monthly invoices, the credit-note
//! sweep, the places' reconciliation.

pub mod expiry;
pub mod reconciliation;
