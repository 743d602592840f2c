//! What operators read: how far each projection is behind the log.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::Cantine;
use crate::projections;
use crate::projections::projector::{read_checkpoint, visible_head};
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
    let mut conn = state.pool.acquire().await?;
    let head = visible_head(&mut conn).await?;
    let mut statuses = Vec::new();
    for projection in projections::all() {
        let checkpoint = read_checkpoint(&mut conn, projection.name()).await?;
        let (recorded_at,): (Option<DateTime<Utc>>,) =
            sqlx::query_as("SELECT last_recorded_at FROM projection_checkpoints WHERE name = $1")
                .bind(projection.name())
                .fetch_optional(&mut *conn)
                .await?
                .unwrap_or((None,));
        let lag_ms = if checkpoint >= head {
            0
        } else {
            let (lag,): (Option<f64>,) = sqlx::query_as(
                "SELECT EXTRACT(EPOCH FROM (now() - min(recorded_at))) * 1000 FROM events
                  WHERE (transaction_id, global_position) > ($1::text::xid8, $2)",
            )
            .bind(checkpoint.xid_text())
            .bind(checkpoint.global_position)
            .fetch_one(&mut *conn)
            .await?;
            lag.unwrap_or(0.0).max(0.0) as i64
        };
        statuses.push(ProjectionStatus {
            name: projection.name(),
            checkpoint: checkpoint.to_string(),
            last_applied_recorded_at: recorded_at,
            lag_ms,
            leader_here: state.progress.is_leader(projection.name()),
        });
    }
    Ok(Json(statuses))
}
