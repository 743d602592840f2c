//! Security headers on every response, and CORS only for the origins configured
//! (`CANTINE_CORS_ORIGINS`): without it, browsers on other sites cannot read the API.

use axum::extract::State;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

const SECURITY_HEADERS: [(HeaderName, &str); 6] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    // The pages this service serves (payment simulator, password form) post to themselves and
    // load nothing else.
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    // The password page's address carries its token: never send it to another site.
    (header::REFERRER_POLICY, "no-referrer"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
    (
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    ),
];

/// Adds the security headers; answers are personal data, so no cache keeps them. With `hsts`
/// (a public URL in https), browsers are also told to come back over https only.
pub async fn add_security_headers(State(hsts): State<bool>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// `None` when no origin is configured: no CORS header at all.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PATCH])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static(super::idempotency::HEADER),
            ])
            // A browser client reads these to tell a replay, and when to retry.
            .expose_headers([
                HeaderName::from_static(super::idempotency::REPLAYED),
                header::RETRY_AFTER,
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}
