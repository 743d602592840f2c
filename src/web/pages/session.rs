//! The browser's session: the same opaque session token as the API's bearer tokens, carried in
//! a cookie, and the CSRF token of each session that every portal form sends back.
//!
//! The CSRF token is derived from the session (an HMAC of the session's stored hash under the
//! service's secret), so no table holds it and every server of a deployment checks it alike.

use axum::http::{header, HeaderMap, HeaderValue};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::app::Cantine;
use crate::domain::account::SESSION_HOURS;

pub const SESSION_COOKIE: &str = "cantine_session";
/// The login form's own token, before any session exists (double-submit: cookie = field).
pub const LOGIN_CSRF_COOKIE: &str = "cantine_connexion";
/// Where to go back after logging in again: the page asked for without a session (hex of its
/// path). A cookie, not a field of the login page, so that a page without a session shows
/// nothing that came with the request.
pub const NEXT_COOKIE: &str = "cantine_suivant";
/// The hidden field of every portal form.
pub const CSRF_FIELD: &str = "csrf";

/// A cookie of the request, by name.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// `Secure` only when users reach the service over https: on a plain-http development server a
/// Secure cookie would never come back.
fn attributes(state: &Cantine) -> &'static str {
    attributes_for(&state.public_url)
}

fn attributes_for(public_url: &str) -> &'static str {
    if public_url.starts_with("https://") {
        "Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "Path=/; HttpOnly; SameSite=Lax"
    }
}

pub fn set_cookie(state: &Cantine, name: &str, value: &str, max_age_seconds: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; Max-Age={max_age_seconds}; {}",
        attributes(state)
    ))
    .expect("cookie values are hex")
}

pub fn session_cookie(state: &Cantine, token: &str) -> HeaderValue {
    set_cookie(state, SESSION_COOKIE, token, SESSION_HOURS * 3600)
}

pub fn expired_cookie(state: &Cantine, name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{name}=; Max-Age=0; {}", attributes(state)))
        .expect("a constant cookie")
}

fn mac(state: &Cantine, session_hash: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&state.portal_secret).expect("HMAC takes keys of any size");
    // A label of its own, so that no other use of the secret yields the same values.
    mac.update(b"cantine portal csrf\0");
    mac.update(session_hash);
    mac
}

/// The CSRF token of the session whose stored hash this is.
pub fn csrf_token(state: &Cantine, session_hash: &[u8]) -> String {
    hex::encode(mac(state, session_hash).finalize().into_bytes())
}

/// Compared in constant time.
pub fn csrf_valid(state: &Cantine, session_hash: &[u8], given: &str) -> bool {
    match hex::decode(given) {
        Ok(bytes) => mac(state, session_hash).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

/// The same token from the session's token itself (tests and tools that log in by the API).
pub fn csrf_token_for_session(state: &Cantine, session_token: &str) -> String {
    csrf_token(
        state,
        &crate::app::accounts::credentials::token_hash(session_token),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_exactly_when_users_come_over_https() {
        let https = attributes_for("https://cantine.example");
        assert!(https.contains("Secure") && https.contains("HttpOnly"));
        assert!(https.contains("SameSite=Lax") && https.contains("Path=/"));
        let http = attributes_for("http://127.0.0.1:8080");
        assert!(!http.contains("Secure") && http.contains("HttpOnly"));
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("x_cantine_session=no; cantine_session=abc; other=1"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, LOGIN_CSRF_COOKIE), None);
    }
}
