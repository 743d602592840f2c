//! Who may call a route, checked in one place: the route table (`routes.rs`) gives every route an
//! [`Access`], and [`guard`] enforces it before the handler runs. Handlers then take the
//! [`Caller`](super::extract::Caller) that the guard resolved from the session; family handlers
//! take the family from it (`caller.family()`), never from the request.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::{request_id_of, Caller};
use crate::app::accounts::sessions::caller_of_session;
use crate::app::Cantine;
use crate::domain::account::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not: health, the OpenAPI document, login, the password link.
    Public,
    /// Not a session but a proof carried by the request itself: the payment provider's
    /// signature, or the unguessable id of the payment simulator's page.
    Proof,
    /// A family session; the family comes from the session.
    Family,
    /// The family portal's pages: a family session carried by the browser's cookie (never a
    /// bearer token), and on POST the form's CSRF token of that session. Refusals are French
    /// pages, not problem+json.
    Portal,
    /// A logged-in user of any role, acting on their own account (logout, password, login).
    AnyUser,
    /// Staff sessions of these roles.
    Staff(&'static [Role]),
    /// The staff back office's pages (`src/web/backoffice`): a staff session of these roles carried
    /// by the browser's cookie, and on POST the form's CSRF token of that session, like
    /// [`Access::Portal`]. Refusals are French pages.
    BackOffice(&'static [Role]),
}

pub use super::extract::ClientAddr;
pub use super::roles::{ADMIN_ROLES, FINANCE_ROLES, FRONT_DESK_ROLES, KITCHEN_ROLES, STAFF_ROLES};

impl Access {
    pub fn needs_session(self) -> bool {
        !matches!(self, Access::Public | Access::Proof)
    }

    /// A page for a browser: the session comes from the cookie, forms carry a CSRF token.
    pub fn is_page(self) -> bool {
        matches!(self, Access::Portal | Access::BackOffice(_))
    }

    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public | Access::Proof | Access::AnyUser => true,
            Access::Family | Access::Portal => role == Role::Family,
            Access::Staff(roles) | Access::BackOffice(roles) => {
                role != Role::Family && roles.contains(&role)
            }
        }
    }

    /// For the access matrix and the documentation.
    pub fn describe(self) -> String {
        match self {
            Access::Public => "public".into(),
            Access::Proof => "signed / capability".into(),
            Access::Family => "family (own data)".into(),
            Access::Portal => "family (own data), browser session + CSRF".into(),
            Access::AnyUser => "any logged-in user (own account)".into(),
            Access::Staff(roles) => roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            Access::BackOffice(roles) => format!(
                "{}, browser session + CSRF",
                Access::Staff(roles).describe()
            ),
        }
    }
}

/// Resolves the session (401 without a valid one) and checks the role (403), then hands the
/// caller to the handler through the request's extensions. Pages have guards of their own
/// (cookie, CSRF, French refusals): this one only hands them the request.
pub async fn guard(
    State((state, access)): State<(Cantine, Access)>,
    mut request: Request,
    next: Next,
) -> Response {
    if access == Access::Portal {
        request = match crate::web::pages::guard::admit(&state, request).await {
            Ok(request) => request,
            Err(refusal) => return refusal,
        };
    } else if let Access::BackOffice(roles) = access {
        request = match crate::web::backoffice::guard::admit(&state, roles, request).await {
            Ok(request) => request,
            Err(refusal) => return refusal,
        };
    } else if access.needs_session() {
        let caller = match authenticate(&state, request.headers()).await {
            Ok(caller) => caller,
            Err(e) => return e.into_response(),
        };
        if !access.allows(caller.role) {
            return ApiError::forbidden().into_response();
        }
        request.extensions_mut().insert(caller);
    }
    if let Some(caller) = request.extensions().get::<Caller>() {
        // Who acted, in the request's log lines (never a token or a password).
        let span = tracing::Span::current();
        span.record("role", caller.role.as_str());
        span.record("actor", tracing::field::display(caller.user_id));
    }
    next.run(request).await
}

/// The bearer token of the request, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

async fn authenticate(state: &Cantine, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let token = bearer_token(headers).ok_or_else(ApiError::unauthorized)?;
    caller_of_session(state, token, request_id_of(headers))
        .await?
        .ok_or_else(ApiError::unauthorized)
}
