//! What runs by itself, on the clock: expiring unpaid holds, the monthly invoices, the credit-note
//! sweep, the places' reconciliation.

pub mod credit_note_sweep;
pub mod expiry;
pub mod invoicing_schedule;
pub mod reconciliation;
