//! What the family portal's and the back office's pages share: the layout and stylesheet, French
//! formatting, the cookie session and its CSRF guard, page errors, and the login and password
//! pages that lead into either.

pub mod assets;
pub mod error;
pub mod format;
pub mod guard;
pub mod layout;
pub mod login;
pub mod password;
pub mod session;
