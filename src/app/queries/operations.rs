//! What operators read and do about the service itself: whether the database answers, how far
//! each projection is behind the log, and (in demonstrations) moving the clock forward.

use chrono::{DateTime, Duration, Utc};

use crate::app::{AppError, AppResult, Cantine};
use crate::db;
use crate::projections::projector::{read_checkpoint, visible_head};
use crate::projections::{self, Position};

/// Whether the database answers; the cause of a failure is logged here.
pub async fn database_answers(cantine: &Cantine) -> bool {
    match db::operations::ping(&cantine.pool).await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            false
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProjectionStatus {
    pub name: &'static str,
    /// The last applied event.
    pub checkpoint: Position,
    pub last_applied_recorded_at: Option<DateTime<Utc>>,
    /// Now minus the commit time of the oldest event not yet applied (0 when caught up).
    pub lag_ms: i64,
    /// Whether this server's projector is the one writing it.
    pub leader_here: bool,
}

/// Every projection's progress, in the order the projector runs them.
pub async fn projection_statuses(cantine: &Cantine) -> AppResult<Vec<ProjectionStatus>> {
    let mut conn = cantine.pool.acquire().await?;
    let head = visible_head(&mut conn).await?;
    let mut statuses = Vec::new();
    for projection in projections::all() {
        let name = projection.name();
        let checkpoint = read_checkpoint(&mut conn, name).await?;
        let last_applied_recorded_at =
            db::operations::last_applied_recorded_at(&mut conn, name).await?;
        let lag_ms = if checkpoint >= head {
            0
        } else {
            db::operations::lag_ms_after(&mut conn, checkpoint).await?
        };
        statuses.push(ProjectionStatus {
            name,
            checkpoint,
            last_applied_recorded_at,
            lag_ms,
            leader_here: cantine.progress.is_leader(name),
        });
    }
    Ok(statuses)
}

/// The longest a demonstration clock moves in one step: a year.
const MAX_ADVANCE_MINUTES: i64 = 366 * 24 * 60;

/// Moves the demonstration clock forward (only when started with `CANTINE_CLOCK`; otherwise the
/// route does not exist) and wakes the expiry, which may now have work; answers the new now.
pub fn advance_clock(cantine: &Cantine, minutes: i64) -> AppResult<DateTime<Utc>> {
    let clock = cantine
        .adjustable_clock
        .as_ref()
        .ok_or_else(|| AppError::not_found("route"))?;
    if !(0..=MAX_ADVANCE_MINUTES).contains(&minutes) {
        return Err(AppError::rule(
            "invalid_advance",
            "advance_minutes must be between 0 and one year",
        ));
    }
    clock.advance(Duration::minutes(minutes));
    cantine.expiry_wake.notify_one();
    Ok(cantine.clock.now())
}
