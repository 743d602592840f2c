//! HTTP tests against a real PostgreSQL, through the real router. One test binary, so that the
//! whole run shares one throwaway cluster; each test gets its own database.

mod helpers;

mod access_matrix;
mod accounts;
mod admin;
mod architecture;
mod backoffice;
mod backoffice_admin;
mod backoffice_admin_e2e;
mod backoffice_e2e;
mod browser;
mod capacity;
mod closures;
mod embedded_default;
mod errors;
mod expiry;
mod first_guide;
mod hardening;
mod idempotency;
mod invoices;
mod isolation;
mod ledger;
mod observability;
mod operations;
mod portal;
mod portal_e2e;
mod portal_second_guide;
mod projections;
mod projector;
mod reconciliation;
mod retention;
mod second_guide;
mod security;
mod tariffs;
