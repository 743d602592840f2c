//! Which town a request is for, chosen once at the edge from its `Host` (and, on a host that
//! serves several towns, the first segment of its path: `web::town_prefix`): each town has its own
//! router, on its own application (its own pool, as its own database role, on its own schema),
//! so nothing past this point can reach another town's data.
//!
//! An unknown host is answered only by what belongs to no town: `/health`, `/ready`, the
//! OpenAPI document and the stylesheet, and `/`, the list of the towns' portals. Every other path is 404, as if
//! the town did not exist.

use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

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
use super::town_prefix;

/// One town as the edge serves it.
pub struct TownSite {
    pub host: String,
    pub name: String,
    pub public_url: String,
    pub router: Router,
}

struct Edge {
    /// Grows when a town is registered while the service runs: it is served at once.
    sites: RwLock<Vec<TownSite>>,
    platform: Platform,
    /// Held while towns are being opened, so that the registry watcher and the platform's route
    /// never open the same town twice.
    opening: tokio::sync::Mutex<()>,
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

    fn hosts(&self) -> Vec<String> {
        let sites = self.sites.read().expect("the towns' lock");
        sites.iter().map(|site| site.host.clone()).collect()
    }
}

/// The towns an install serves, by host; grows with the registry while the service runs.
#[derive(Clone)]
pub struct Towns(Arc<Edge>);

impl Towns {
    pub fn new(platform: Platform, sites: Vec<TownSite>) -> Self {
        Towns(Arc::new(Edge {
            sites: RwLock::new(sites),
            platform,
            opening: tokio::sync::Mutex::new(()),
        }))
    }

    /// The router of the install: each town's on its host, and (with a platform token) the
    /// platform operator's route on the hosts that are no town's.
    pub fn router(&self) -> Router {
        Router::new().fallback(dispatch).with_state(self.clone())
    }

    /// Opens the towns registered since they were last looked at. A town that cannot be opened
    /// is logged and tried again at the next look.
    pub async fn serve_new_towns(&self) {
        let _opening = self.0.opening.lock().await;
        let unserved = match self.0.platform.unserved(&self.0.hosts()).await {
            Ok(unserved) => unserved,
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "the registry of towns could not be read"
                );
                return;
            }
        };
        for row in unserved {
            match self.0.platform.open(&row).await {
                Ok((state, public_url)) => {
                    self.0
                        .sites
                        .write()
                        .expect("the towns' lock")
                        .push(TownSite {
                            host: row.host,
                            name: row.name,
                            public_url,
                            router: super::router(state),
                        });
                }
                Err(e) => {
                    tracing::error!(host = %row.host, error = format!("{e:#}"), "a registered town could not be opened");
                }
            }
        }
    }

    /// Serves each town as soon as it is registered, until `stopped` completes: woken by the
    /// registration's notification, and every minute in case one was missed.
    pub async fn watch_registry(self, stopped: impl Future<Output = ()>) {
        const LOOK_AGAIN: Duration = Duration::from_secs(60);
        const LISTEN_AGAIN: Duration = Duration::from_secs(5);
        tokio::pin!(stopped);
        loop {
            let listener = match self.0.platform.registrations().await {
                Ok(listener) => Some(listener),
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "cannot listen for new towns");
                    None
                }
            };
            // Whatever was registered while nobody listened.
            self.serve_new_towns().await;
            let Some(mut listener) = listener else {
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep(LISTEN_AGAIN) => continue,
                }
            };
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    received = tokio::time::timeout(LOOK_AGAIN, listener.recv()) => {
                        // The connection is lost: listen anew.
                        if matches!(received, Ok(Err(_))) {
                            break;
                        }
                        self.serve_new_towns().await;
                    }
                }
            }
        }
    }
}

const PLATFORM_TOWNS: &str = "/api/v1/platform/towns";

async fn dispatch(State(towns): State<Towns>, request: Request) -> Response {
    let edge = &towns.0;
    let host = request_host(&request);
    if let Some(router) = edge.town(host.as_deref()) {
        return router.oneshot(request).await.into_response();
    }
    let path = request.uri().path();
    // A host serving several towns: the path's first segment names the town.
    if let (Some(host), Some(prefix)) = (host.as_deref(), town_prefix::first_segment(path)) {
        if let Some(router) = edge.town(Some(&format!("{host}/{prefix}"))) {
            let prefix = prefix.to_string();
            return town_prefix::forward(router, &prefix, request).await;
        }
    }
    if ["/health", "/ready", "/api/v1/openapi.json", "/portail.css"].contains(&path) {
        // Answered by any town: they share the database, the contract and the stylesheet.
        if let Some(router) = edge.any_town() {
            return router.oneshot(request).await.into_response();
        }
    }
    if path == "/" {
        return towns_page(&edge.sites.read().expect("the towns' lock"));
    }
    if path == PLATFORM_TOWNS && edge.platform.takes_requests() {
        return platform_towns(&towns, request).await;
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
async fn platform_towns(towns: &Towns, request: Request) -> Response {
    let platform = &towns.0.platform;
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
    towns.serve_new_towns().await;
    let served = if towns.0.hosts().contains(&row.host) {
        "now"
    } else {
        "from the next start of the service"
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
