//! The portal's one stylesheet, compiled into the binary: no file to deploy beside it.

use axum::http::header;
use axum::response::IntoResponse;

pub const CSS_PATH: &str = "/portail.css";
const CSS: &str = include_str!("portail.css");

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            // It changes only with the binary; an hour spares a request per page.
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}
