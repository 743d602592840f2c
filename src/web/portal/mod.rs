//! The family portal: server-rendered French pages (maud) for the first guide's flow, served by
//! the same binary as the API. Handlers here render; what they show and do comes from the same
//! use cases the API calls (`crate::app`), so the portal and the API cannot disagree. Routes are
//! declared in `web/routes.rs` with `Access::Portal` (cookie session, CSRF on POST, checked in
//! `pages/guard.rs`).

pub mod account;
pub mod booking;
pub mod calendar;
pub mod cart;
pub mod changes;
pub mod context;
pub mod documents;
pub mod history;
pub mod home;
pub mod invoice;
pub mod invoices;
pub mod ledger;
pub mod payment_simulator;
pub mod reservation;
