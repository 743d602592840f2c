//! The portal's guard (`Access::Portal`): a family session from the cookie, and on POST the
//! form's CSRF token of that session, both checked before any handler runs. Without a session
//! the answer is the login form itself (401), so the browser shows something useful.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::{csrf_refused, error_page};
use super::session::{cookie, csrf_valid, expired_cookie, CSRF_FIELD, SESSION_COOKIE};
use crate::accounts::Role;
use crate::api::access::session_caller;
use crate::api::BODY_LIMIT;
use crate::app::AppState;

pub async fn admit(state: &AppState, request: Request) -> Result<Request, Response> {
    let token = cookie(request.headers(), SESSION_COOKIE).map(str::to_string);
    let caller = match token {
        Some(token) => session_caller(state, &token, request.headers())
            .await
            .map_err(|e| super::error::PortalError(e).into_response())?,
        None => None,
    };
    let Some(caller) = caller else {
        // The address asked for is not echoed into the form: a page without a session shows
        // nothing that came with the request.
        let mut response = super::login::form(state, None, None, StatusCode::UNAUTHORIZED);
        response
            .headers_mut()
            .append(header::SET_COOKIE, expired_cookie(state, SESSION_COOKIE));
        return Err(response);
    };
    if caller.role != Role::Family {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "Accès refusé",
            "Le portail famille est réservé aux comptes famille.",
        ));
    }
    let (mut parts, body) = request.into_parts();
    let body = if parts.method == Method::POST {
        let bytes = to_bytes(body, BODY_LIMIT)
            .await
            .map_err(|_| csrf_refused())?;
        let given = form_field(&bytes, CSRF_FIELD).unwrap_or_default();
        if !csrf_valid(state, &caller.session_hash, &given) {
            tracing::warn!(path = %parts.uri.path(), "portal form refused: wrong CSRF token");
            return Err(csrf_refused());
        }
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(caller);
    Ok(Request::from_parts(parts, body))
}

/// One field of an url-encoded form. The CSRF token is hex, so no decoding is needed for it.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}
