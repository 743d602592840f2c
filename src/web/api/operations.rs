//! What operators read: how far each projection is behind the log.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::queries::operations;
use crate::app::Cantine;
use crate::web::error::ApiResult;

#[derive(Serialize, ToSchema)]
pub struct ProjectionStatus {
    pub name: &'static str,
    /// `transaction/position` of the last applied event.
    pub checkpoint: String,
    pub last_applied_recorded_at: Option<DateTime<Utc>>,
    /// Now minus the commit time of the oldest event not yet applied (0 when caught up).
    pub lag_ms: i64,
    /// Whether this server's projector is the one writing it.
    pub leader_here: bool,
}

#[utoipa::path(get, path = "/api/v1/admin/projections", tag = "operations",
    responses((status = 200, body = Vec<ProjectionStatus>)))]
pub async fn projections(State(state): State<Cantine>) -> ApiResult<Json<Vec<ProjectionStatus>>> {
    let statuses = operations::projection_statuses(&state).await?;
    Ok(Json(
        statuses
            .into_iter()
            .map(|s| ProjectionStatus {
                name: s.name,
                checkpoint: s.checkpoint.to_string(),
                last_applied_recorded_at: s.last_applied_recorded_at,
                lag_ms: s.lag_ms,
                leader_here: s.leader_here,
            })
            .collect(),
    ))
}
