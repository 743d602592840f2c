//! Cantine: the school-canteen booking service ("portail famille"), event-sourced on PostgreSQL.
//!
//! Data flows one way: HTTP handlers (`api`) turn requests into commands; the domain decides and
//! emits events; the event store appends them; the projector reads the log in commit-safe order
//! and writes the projections; read routes read projections.

pub mod accounts;
pub mod api;
pub mod app;
pub mod audit;
pub mod backoffice;
pub mod clock;
pub mod commands;
pub mod credit_notes;
pub mod database;
pub mod db;
pub mod demo;
pub mod documents;
pub mod domain;
pub mod expiry;
pub mod invoicing;
pub mod mail;
pub mod password_work;
pub mod payment_provider;
pub mod pg_embedded;
pub mod portal;
pub mod projections;
pub mod reconciliation;
pub mod telemetry;
pub mod throttle;
