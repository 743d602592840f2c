//! What every back-office page needs: who is logged in (login and role) and the session's CSRF
//! token for the forms, the logout among them.

use super::error::StaffResult;
use super::layout::Nav;
use crate::app::accounts::sessions::own_login;
use crate::app::Cantine;
use crate::domain::account::Role;
use crate::web::extract::Caller;
use crate::web::pages::session::csrf_token;

pub struct StaffContext {
    pub login: String,
    pub role: Role,
    pub csrf: String,
    pub current: &'static str,
}

impl StaffContext {
    pub async fn load(
        state: &Cantine,
        caller: &Caller,
        current: &'static str,
    ) -> StaffResult<Self> {
        Ok(StaffContext {
            login: own_login(state, caller).await?,
            role: caller.role,
            csrf: csrf_token(state, &caller.session_hash),
            current,
        })
    }

    pub fn nav(&self) -> Nav<'_> {
        Nav {
            login: &self.login,
            role: self.role,
            csrf: &self.csrf,
            current: self.current,
        }
    }
}
