//! What every logged-in page needs: the family (its name, its children) and the session's CSRF
//! token.

use crate::app::queries::family::{self, Family};
use crate::app::{Caller, Cantine};
use crate::web::pages::error::PortalResult;
use crate::web::pages::layout::Nav;
use crate::web::pages::session::csrf_token;

pub struct Context {
    pub family: Family,
    pub csrf: String,
    pub current: &'static str,
}

impl Context {
    pub async fn load(
        state: &Cantine,
        caller: &Caller,
        current: &'static str,
    ) -> PortalResult<Self> {
        let family = family::family(state, caller).await?;
        Ok(Context {
            family,
            csrf: csrf_token(state, &caller.session_hash),
            current,
        })
    }

    pub fn nav(&self) -> Nav<'_> {
        Nav {
            family_name: &self.family.name,
            csrf: &self.csrf,
            current: self.current,
        }
    }
}
