//! Cantine: the school-canteen booking service ("portail famille"), event-sourced on PostgreSQL.
//!
//! Data flows one way (see "How the code is laid out" in the README):
//! `web` (HTTP: the JSON API, the family portal, the back office) calls `app`, the application
//! layer and the only door to the rest; `app` runs the use cases: the `domain` decides and emits
//! events, `store` appends them, the `projections` read the log in commit-safe order and write the
//! read models, and queries read those through `db`.

pub mod app;
pub mod config;
pub mod db;
pub mod domain;
pub mod projections;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
