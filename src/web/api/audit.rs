//! What auditors read: the event log, as JSON Lines, by position range or by aggregate.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::queries::audit;
use crate::app::Cantine;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::ApiQuery;

#[derive(Deserialize, IntoParams)]
pub struct EventsQuery {
    /// Events after this position (default 0: from the start).
    pub after: Option<i64>,
    /// At most this many (default 1000, at most 10000).
    pub limit: Option<i64>,
    /// Only the events of this aggregate.
    pub aggregate_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit/events", tag = "audit", params(EventsQuery),
    responses((status = 200, content_type = "application/x-ndjson", description = "one event a line")))]
pub async fn events(
    State(state): State<Cantine>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> ApiResult<Response> {
    let events = audit::events(
        &state,
        query.after,
        query.limit,
        query.aggregate_id.as_deref(),
    )
    .await?;
    let mut body = String::new();
    for event in events {
        body.push_str(&serde_json::to_string(&event).map_err(ApiError::internal)?);
        body.push('\n');
    }
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(response)
}
