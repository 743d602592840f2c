//! The guard of the browser's pages: a session from the cookie, and on POST the form's CSRF token
//! of that session, both checked before any handler runs. Without a session the answer is the
//! login form itself (401), so the browser shows something useful. The family portal
//! (`Access::Portal`, [`admit`]) and the staff back office (`Access::BackOffice`, in
//! `backoffice::guard`) differ only in who they admit and how they say no.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::{csrf_refused_from, error_page_with_link};
use super::session::{
    cookie, csrf_valid, expired_cookie, set_cookie, CSRF_FIELD, NEXT_COOKIE, SESSION_COOKIE,
};
use crate::app::accounts::sessions::caller_of_session;
use crate::app::Cantine;
use crate::domain::account::Role;
use crate::web::extract::{request_id_of, Caller};
use crate::web::BODY_LIMIT;

/// The largest form a page takes: url-encoded forms are small, but a back-office upload
/// (multipart) carries a document of up to `backoffice::documents::MAX_SIZE`.
pub const UPLOAD_BODY_LIMIT: usize = 6 * 1024 * 1024;

pub async fn admit(state: &Cantine, request: Request) -> Result<Request, Response> {
    admit_if(state, request, "/", |caller| {
        (caller.role != Role::Family).then(|| {
            error_page_with_link(
                StatusCode::FORBIDDEN,
                "Accès refusé",
                "Le portail famille est réservé aux comptes famille.",
                ("/gestion", "Aller à l'espace de gestion"),
            )
        })
    })
    .await
}

/// The session of the cookie (else the login form, 401), then `refusal` (sent as is if any),
/// then on POST the form's CSRF token (url-encoded or multipart). `home` is where the refusals
/// of a form lead back to.
pub async fn admit_if(
    state: &Cantine,
    request: Request,
    home: &str,
    refusal: impl FnOnce(&Caller) -> Option<Response>,
) -> Result<Request, Response> {
    let token = cookie(request.headers(), SESSION_COOKIE).map(str::to_string);
    let caller = match token {
        Some(token) => caller_of_session(state, &token, request_id_of(request.headers()))
            .await
            .map_err(|e| super::error::PortalError::from(e).into_response())?,
        None => None,
    };
    let Some(caller) = caller else {
        // Logging in again leads back where the family was: the page asked for, or the page of
        // the form posted on an expired session (its fields are not kept: the family sees the
        // page again before acting). It is kept in a cookie, not echoed into the page (a page
        // without a session shows nothing that came with the request), and the login follows
        // only a path of this site (`login::local_path`).
        let next = if request.method() == Method::POST {
            let path = request.uri().path().to_string();
            let bytes = to_bytes(request.into_body(), BODY_LIMIT)
                .await
                .unwrap_or_default();
            page_of_form(&path, &bytes)
        } else {
            request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into())
        };
        let mut response = super::login::form(state, None, None, StatusCode::UNAUTHORIZED).await;
        response
            .headers_mut()
            .append(header::SET_COOKIE, expired_cookie(state, SESSION_COOKIE));
        if next != "/" {
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(state, NEXT_COOKIE, &hex::encode(next.as_bytes()), 3600),
            );
        }
        return Err(response);
    };
    if let Some(refusal) = refusal(&caller) {
        return Err(refusal);
    }
    let (mut parts, body) = request.into_parts();
    let body = if parts.method == Method::POST {
        let multipart = is_multipart(&parts.headers);
        let limit = if multipart {
            UPLOAD_BODY_LIMIT
        } else {
            BODY_LIMIT
        };
        let bytes = to_bytes(body, limit).await.map_err(|_| too_large(home))?;
        let given = if multipart {
            multipart_field(&parts.headers, bytes.clone(), CSRF_FIELD).await
        } else {
            form_field(&bytes, CSRF_FIELD)
        }
        .unwrap_or_default();
        if !csrf_valid(state, &caller.session_hash, &given) {
            tracing::warn!(path = %parts.uri.path(), "page form refused: wrong CSRF token");
            return Err(csrf_refused_from(home));
        }
        Body::from(bytes)
    } else {
        body
    };
    parts.extensions.insert(caller);
    Ok(Request::from_parts(parts, body))
}

/// The last segments of form addresses that act on the page above them
/// (`/reservations/{id}/confirmer` is posted from `/reservations/{id}`).
const ACTIONS: [&str; 15] = [
    "confirmer",
    "enfants",
    "annuler",
    "paiement",
    "mot-de-passe",
    "identifiant",
    "famille",
    "deconnexion",
    "deverrouillage",
    "desactivation",
    "activation",
    "retrait",
    "fermetures",
    "capacite",
    "tarifs",
];

/// The page a form was posted from. The calendar and the recap post to their own address,
/// which needs the child, the period and the month (and the recap's plan) from the form; other
/// forms act on the page above them, or post to their own page.
pub fn page_of_form(path: &str, body: &[u8]) -> String {
    let fields: Vec<(&str, &str)> = std::str::from_utf8(body)
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .collect();
    let keep = |names: &[&str]| -> String {
        fields
            .iter()
            .filter(|(k, _)| names.contains(k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    };
    match path {
        "/reservation/calendrier" => format!("{path}?{}", keep(&["enfant", "periode", "mois"])),
        "/reservation/recapitulatif" => format!(
            "{path}?{}",
            keep(&["enfant", "periode", "mois", "ajout", "annuler"])
        ),
        _ => {
            let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            if segments.len() >= 2 && segments[segments.len() - 2] == "enfants" {
                // A child's form is on its family's page.
                segments.truncate(segments.len() - 2);
            } else if segments.last().is_some_and(|last| ACTIONS.contains(last)) {
                segments.pop();
            }
            match segments.as_slice() {
                [] => "/".into(),
                _ => format!("/{}", segments.join("/")),
            }
        }
    }
}

fn too_large(home: &str) -> Response {
    error_page_with_link(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Envoi trop volumineux",
        "Ce formulaire dépasse la taille acceptée. Revenez en arrière et envoyez moins de données.",
        (home, "Retour à l'accueil"),
    )
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
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

/// One text field of a multipart form, read from the buffered body with the parser axum's
/// `Multipart` uses (multer), without axum's default body limit: the guard bounded the body.
async fn multipart_field(headers: &HeaderMap, body: Bytes, name: &str) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let boundary = multer::parse_boundary(content_type).ok()?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}
