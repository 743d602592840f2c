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

/// The back office's home: the login sends staff there, and its pages lead back to it. Here
/// rather than in `backoffice`, so that the shared pages do not depend on one side.
pub const BACK_OFFICE_HOME: &str = "/gestion";
