//! What every logged-in page needs: the family (its name, its children) and the session's CSRF
//! token, read through the API's own family handler.

use axum::extract::State;

use super::error::PortalResult;
use super::layout::Nav;
use super::session::csrf_token;
use crate::api::extract::Caller;
use crate::api::family::{self, FamilyView};
use crate::app::AppState;

pub struct Context {
    pub family: FamilyView,
    pub csrf: String,
    pub current: &'static str,
}

impl Context {
    pub async fn load(
        state: &AppState,
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
