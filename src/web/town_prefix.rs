//! A town served under a path prefix, where one host name serves several towns
//! (`portail.example.fr/camargue`, `portail.example.fr/carcassonne`).
//!
//! The town's router knows nothing of the prefix: the edge takes it off the request's path, and
//! puts it back on every path the answer hands to the browser, the redirects' `Location`, the
//! session cookie's `Path` and the pages' links, forms and images, which are all written from
//! the root (`/connexion`, `/gestion/…`). A path carried as a value (a form's hidden `suivant`)
//! goes back to the town's router as it was given, unprefixed, which is what the router expects.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{self, HeaderValue};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;

/// The prefix segment a request's path starts with: `camargue` for `/camargue/connexion`.
pub fn first_segment(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('/')?;
    let segment = rest.split('/').next().unwrap_or_default();
    (!segment.is_empty()).then_some(segment)
}

/// Serves `request` (whose path starts with `/{prefix}`) by the town's `router`, as if the town
/// were served on the host's root.
pub async fn forward(router: Router, prefix: &str, mut request: Request) -> Response {
    let mount = format!("/{prefix}");
    let uri = request.uri();
    let inner = uri
        .path()
        .strip_prefix(&mount)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        .unwrap_or("/");
    let inner = if inner.is_empty() { "/" } else { inner };
    let path_and_query = match uri.query() {
        Some(query) => format!("{inner}?{query}"),
        None => inner.to_string(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    if let Ok(stripped) = Uri::from_parts(parts) {
        *request.uri_mut() = stripped;
    }
    let response = router.oneshot(request).await.into_response();
    prefixed(response, &mount).await
}

/// The town's answer with its root paths moved under `mount`.
async fn prefixed(response: Response, mount: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    if let Some(location) = parts.headers.get(header::LOCATION) {
        if let Some(moved) = location.to_str().ok().and_then(|l| under(mount, l)) {
            if let Ok(value) = HeaderValue::from_str(&moved) {
                parts.headers.insert(header::LOCATION, value);
            }
        }
    }
    let cookies: Vec<HeaderValue> = parts
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|cookie| {
            cookie
                .to_str()
                .ok()
                .map(|c| cookie_under(mount, c))
                .and_then(|c| HeaderValue::from_str(&c).ok())
                .unwrap_or_else(|| cookie.clone())
        })
        .collect();
    if !cookies.is_empty() {
        parts.headers.remove(header::SET_COOKIE);
        for cookie in cookies {
            parts.headers.append(header::SET_COOKIE, cookie);
        }
    }
    let html = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return Response::from_parts(parts, body);
    }
    // Pages are small and whole: read, rewritten, sent with their new length.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    let page = html_under(mount, &String::from_utf8_lossy(&bytes));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(page))
}

/// `path` moved under `mount` when it is a path from the root (not `//host/…` nor a full URL).
fn under(mount: &str, path: &str) -> Option<String> {
    (path.starts_with('/') && !path.starts_with("//")).then(|| format!("{mount}{path}"))
}

/// A `Set-Cookie` value whose `Path` is moved under `mount`, so that two towns on one host each
/// keep their own session.
fn cookie_under(mount: &str, cookie: &str) -> String {
    cookie
        .split(';')
        .map(|attribute| {
            let trimmed = attribute.trim_start();
            match trimmed.strip_prefix("Path=") {
                Some("/") => format!(" Path={mount}"),
                Some(path) => format!(" Path={}", under(mount, path).unwrap_or(path.to_string())),
                None => attribute.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// The page with every link, form, image and stylesheet written from the root moved under
/// `mount`. The pages are written by maud, which quotes every attribute with `"`.
fn html_under(mount: &str, page: &str) -> String {
    let mut out = page.to_string();
    for attribute in ["href", "src", "action", "formaction"] {
        let from = format!("{attribute}=\"/");
        let to = format!("{attribute}=\"{mount}/");
        let protocol_relative = format!("{attribute}=\"{mount}//");
        out = out
            .replace(&from, &to)
            // `//host/…` names another host: put it back as it was.
            .replace(&protocol_relative, &format!("{attribute}=\"//"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_the_paths_first_segment() {
        assert_eq!(first_segment("/camargue/connexion"), Some("camargue"));
        assert_eq!(first_segment("/camargue"), Some("camargue"));
        assert_eq!(first_segment("/"), None);
    }

    #[test]
    fn the_answers_paths_move_under_the_prefix_and_nothing_else_does() {
        assert_eq!(
            under("/camargue", "/connexion?suivant=/gestion").as_deref(),
            Some("/camargue/connexion?suivant=/gestion")
        );
        assert_eq!(under("/camargue", "https://psp.example/pay"), None);
        assert_eq!(under("/camargue", "//cdn.example/x"), None);
        assert_eq!(
            cookie_under(
                "/camargue",
                "cantine_session=abc; Path=/; HttpOnly; SameSite=Lax"
            ),
            "cantine_session=abc; Path=/camargue; HttpOnly; SameSite=Lax"
        );
        let page = r#"<a href="/reservations">R</a><form action="/connexion"><img src="/logo"><a href="https://x.fr/">x</a><a href="//cdn/x">c</a><input value="/gestion">"#;
        assert_eq!(
            html_under("/camargue", page),
            r#"<a href="/camargue/reservations">R</a><form action="/camargue/connexion"><img src="/camargue/logo"><a href="https://x.fr/">x</a><a href="//cdn/x">c</a><input value="/gestion">"#
        );
    }
}
