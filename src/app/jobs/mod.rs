//! What runs by itself, on the clock: expiring unpaid holds, the monthly invoices, the credit-note
//! sweep, the places' reconciliation, the reminders of unpaid invoices.

pub mod audit_verification;
pub mod credit_note_sweep;
pub mod expiry;
pub mod hold_reminders;
pub mod invoicing_schedule;
pub mod mail_sender;
pub mod reconciliation;
pub mod reminders;
pub mod waitlist_promoter;
