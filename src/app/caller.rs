//! Who is asking: the logged-in caller that the web resolved from the session, handed to every
//! use case, which takes the family from it (never from the request) and writes it in the events.

use uuid::Uuid;

use super::error::AppError;
use crate::domain::account::Role;
use crate::domain::reservation::Actor;
use crate::store::commands::CommandMeta;

/// The logged-in caller, from the bearer token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: Uuid,
    pub role: Role,
    pub family_id: Option<Uuid>,
    pub request_id: String,
    /// The hash of the session's token, to end this session (logout).
    pub session_hash: Vec<u8>,
}

impl Caller {
    /// The family of a family account: family routes never take it from the request.
    pub fn family(&self) -> Result<Uuid, AppError> {
        match (self.role, self.family_id) {
            (Role::Family, Some(id)) => Ok(id),
            _ => Err(AppError::forbidden()),
        }
    }

    pub fn actor(&self) -> Actor {
        match (self.role, self.family_id) {
            (Role::Family, Some(id)) => Actor::Family(id),
            _ => Actor::Staff,
        }
    }

    pub fn meta(&self) -> CommandMeta {
        CommandMeta {
            actor_id: Some(self.user_id),
            actor_role: self.role.as_str().to_string(),
            request_id: self.request_id.clone(),
        }
    }
}
