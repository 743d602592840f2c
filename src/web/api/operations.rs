//! What operators read: how far each projection is behind the log, and the e-mail outbox.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::queries::operations;
use crate::app::Cantine;
use crate::web::error::ApiResult;
use crate::web::extract::ApiQuery;

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

#[derive(Deserialize, IntoParams)]
pub struct MailQuery {
    /// `pending`, `sent` or `failed` (default: all)
    pub status: Option<String>,
}

/// One e-mail of the outbox.
#[derive(Serialize, ToSchema)]
pub struct OutboxMail {
    pub id: i64,
    /// `reservation_confirmed`, `reservation_expired`, `payment_received`
    pub kind: String,
    pub family_id: Option<uuid::Uuid>,
    pub recipient: String,
    pub subject: String,
    /// `pending`, `sent` or `failed`
    pub status: String,
    pub attempts: i32,
    /// The mail server's last refusal, or why it could not be reached.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[utoipa::path(get, path = "/api/v1/admin/mail", tag = "operations", params(MailQuery),
    responses((status = 200, body = Vec<OutboxMail>, description = "newest first, at most 200")))]
pub async fn mail(
    State(state): State<Cantine>,
    ApiQuery(query): ApiQuery<MailQuery>,
) -> ApiResult<Json<Vec<OutboxMail>>> {
    let rows = operations::mail_outbox(&state, query.status.as_deref()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| OutboxMail {
                id: r.id,
                kind: r.kind,
                family_id: r.family_id,
                recipient: r.recipient,
                subject: r.subject,
                status: r.status,
                attempts: r.attempts,
                last_error: r.last_error,
                created_at: r.created_at,
                next_attempt_at: r.next_attempt_at,
                sent_at: r.sent_at,
            })
            .collect(),
    ))
}
