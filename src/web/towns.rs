//! Which town a request is for, chosen once at the edge from its `Host`: each town has its own
//! router, on its own application (its own pool, as its own database role, on its own schema),
//! so nothing past this point can reach another town's data.
//!
//! An unknown host is answered only by what belongs to no town: `/health`, `/ready`, the
//! OpenAPI document and the stylesheet, and `/`, the list of the towns' portals. Every other path is 404, as if
//! the town did not exist.

use std::sync::{Arc, RwLock};

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use maud::html;
use serde::Deserialize;
use serde_json::json;
use tower::ServiceExt;

use crate::app::towns::{NewTown, Platform};

use super::error::ApiError;
use super::pages::layout;

/// One town as the edge serves it.
pub struct TownSite {
    pub host: String,
    pub name: String,
    pub public_url: String,
    pub router: Router,
}

struct Edge {
    /// Grows when the platform operator creates a town: it is served at once.
    sites: RwLock<Vec<TownSite>>,
    platform: Option<Platform>,
}

impl Edge {
    /// The router of the town served on `host`.
    fn town(&self, host: Option<&str>) -> Option<Router> {
        let sites = self.sites.read().expect("the towns' lock");
        sites
            .iter()
            .find(|site| Some(site.host.as_str()) == host)
            .map(|site| site.router.clone())
    }

    /// The router of any town, for what all towns answer alike.
    fn any_town(&self) -> Option<Router> {
        let sites = self.sites.read().expect("the towns' lock");
        sites.first().map(|site| site.router.clone())
    }
}

/// The router of an install serving several towns (and, with a platform token, the platform
/// operator's route on the hosts that are no town's).
pub fn router(platform: Option<Platform>, sites: Vec<TownSite>) -> Router {
    Router::new().fallback(dispatch).with_state(Arc::new(Edge {
        sites: RwLock::new(sites),
        platform,
    }))
}

const PLATFORM_TOWNS: &str = "/api/v1/platform/towns";

async fn dispatch(State(edge): State<Arc<Edge>>, request: Request) -> Response {
    let host = request_host(&request);
    if let Some(router) = edge.town(host.as_deref()) {
        return router.oneshot(request).await.into_response();
    }
    let path = request.uri().path();
    if ["/health", "/ready", "/api/v1/openapi.json", "/portail.css"].contains(&path) {
        // Answered by any town: they share the database, the contract and the stylesheet.
        if let Some(router) = edge.any_town() {
            return router.oneshot(request).await.into_response();
        }
    }
    if path == "/" {
        return towns_page(&edge.sites.read().expect("the towns' lock"));
    }
    if path == PLATFORM_TOWNS {
        if let Some(platform) = &edge.platform {
            return platform_towns(&edge, platform, request).await;
        }
    }
    unknown_town(path)
}

/// The body of `POST /api/v1/platform/towns`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTownBody {
    host: String,
    name: String,
    #[serde(default)]
    address: String,
    admin_login: String,
    admin_password: String,
}

/// Creates a town and its first administrator, and serves it at once (or, if it could not be
/// opened in this process, from the service's next start).
async fn platform_towns(edge: &Edge, platform: &Platform, request: Request) -> Response {
    if request.method() != Method::POST {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this route does not take this method",
        )
        .into_response();
    }
    let admitted = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| platform.admits(given));
    if !admitted {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this route needs the platform operator's token",
        )
        .into_response();
    }
    let body: NewTownBody = match Json::from_request(request, &()).await {
        Ok(Json(body)) => body,
        Err(rejection) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                rejection.body_text(),
            )
            .into_response()
        }
    };
    let town = NewTown {
        host: body.host,
        name: body.name,
        address: body.address,
        admin_login: body.admin_login,
        admin_password: body.admin_password,
    };
    let row = match platform.add_town(&town).await {
        Ok(row) => row,
        Err(refusal) => return ApiError::from(refusal).into_response(),
    };
    // Made and recorded: served from the next start whatever happens here.
    let served = match platform.open(&row).await {
        Ok((state, public_url)) => {
            edge.sites.write().expect("the towns' lock").push(TownSite {
                host: row.host.clone(),
                name: row.name.clone(),
                public_url,
                router: super::router(state),
            });
            "now"
        }
        Err(e) => {
            tracing::error!(host = %row.host, error = format!("{e:#}"), "a new town could not be opened");
            "from the next start of the service"
        }
    };
    (
        StatusCode::CREATED,
        Json(json!({
            "id": row.id,
            "host": row.host,
            "name": row.name,
            "served": served,
        })),
    )
        .into_response()
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
