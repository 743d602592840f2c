//! Cantine: the school-canteen booking service ("portail famille"), event-sourced on PostgreSQL.

pub mod clock;
pub mod domain;
