//! The event store: every aggregate's events are appended here, with the same metadata (actor,
//! role, request id).

pub mod append;
pub mod append_alone;
pub mod commands;
pub mod event_repository;
pub mod invoices;
pub mod payments;
pub mod sepa;
pub mod waitlist;
