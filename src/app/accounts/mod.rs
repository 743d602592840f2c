//! Accounts and sessions: credentials, login throttles, the password work pool, signing in and
//! out, the caller's own account, and the e-mailed password link.

pub mod credentials;
pub mod own_account;
pub mod password_link;
pub mod password_work;
pub mod sessions;
pub mod throttle;
