//! HTTP tests against a real PostgreSQL, through the real router. One test binary, so that the
//! whole run shares one throwaway cluster; each test gets its own database.

mod helpers;

mod accounts;
mod admin;
mod embedded_default;
mod errors;
mod expiry;
mod first_guide;
mod isolation;
mod operations;
mod projector;
mod second_guide;
