//! What every logged-in page needs: the family (its name, its children) and the session's CSRF
//! token, read through the API's own family handler.

use axum::extract::State;

use crate::app::Cantine;
use crate::web::api::family::{self, FamilyView};
use crate::web::extract::Caller;
use crate::web::pages::error::PortalResult;
use crate::web::pages::layout::Nav;
use crate::web::pages::session::csrf_token;

pub struct Context {
    pub family: FamilyView,
    pub csrf: String,
    pub current: &'static str,
}

impl Context {
    pub async fn load(
        state: &Cantine,
        caller: &Caller,
        current: &'static str,
    ) -> PortalResult<Self> {
        let family = family::family(State(state.clone()), caller.clone())
            .await?
            .0;
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
