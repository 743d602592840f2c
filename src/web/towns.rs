//! Which town a request is for, chosen once at the edge from its `Host`: each town has its own
//! router, on its own application (its own pool, as its own database role, on its own schema),
//! so nothing past this point can reach another town's data.
//!
//! An unknown host is answered only by what belongs to no town: `/health`, `/ready` and the
//! OpenAPI document, and `/`, the list of the towns' portals. Every other path is 404, as if
//! the town did not exist.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use maud::html;
use tower::ServiceExt;

use super::error::ApiError;
use super::pages::layout;

/// One town as the edge serves it.
pub struct TownSite {
    pub host: String,
    pub name: String,
    pub public_url: String,
    pub router: Router,
}

/// The router of an install serving several towns.
pub fn router(sites: Vec<TownSite>) -> Router {
    Router::new().fallback(dispatch).with_state(Arc::new(sites))
}

async fn dispatch(State(sites): State<Arc<Vec<TownSite>>>, request: Request) -> Response {
    let host = request_host(&request);
    if let Some(site) = sites
        .iter()
        .find(|site| Some(site.host.as_str()) == host.as_deref())
    {
        return site.router.clone().oneshot(request).await.into_response();
    }
    let path = request.uri().path();
    if ["/health", "/ready", "/api/v1/openapi.json"].contains(&path) {
        // Answered by any town: they share the database and the contract.
        if let Some(site) = sites.first() {
            return site.router.clone().oneshot(request).await.into_response();
        }
    }
    if path == "/" {
        return towns_page(&sites);
    }
    unknown_town(path)
}

/// The host a request names (`Host`, or the authority of an absolute URI), lower case, without
/// its port.
pub fn request_host(request: &Request) -> Option<String> {
    let raw = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))?;
    let host = match raw.strip_prefix('[') {
        // An IPv6 literal: `[::1]:8080`.
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => raw.split(':').next().unwrap_or_default(),
    };
    Some(host.trim_end_matches('.').to_ascii_lowercase())
}

fn unknown_town(path: &str) -> Response {
    if path.starts_with("/api") {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no town is served on this host name",
        )
        .into_response();
    }
    layout::refusal_page(
        &layout::PORTAL,
        StatusCode::NOT_FOUND,
        "Page introuvable",
        "Aucune commune n'est servie à cette adresse.",
        ("/", "Voir les portails des communes"),
    )
}

fn towns_page(sites: &[TownSite]) -> Response {
    layout::ok(layout::frame(
        &layout::PORTAL,
        "Portails des communes",
        None,
        html! {
            p { "Choisissez le portail famille de votre commune :" }
            ul {
                @for site in sites {
                    li { a href={ (site.public_url) "/connexion" } { (site.name) } }
                }
            }
        },
    ))
}
