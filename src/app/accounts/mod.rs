//! Accounts and sessions: credentials, login throttles, the password work pool.

pub mod credentials;
pub mod password_work;
pub mod throttle;
