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

/// Whether this server should get traffic: every migration applied, and no projection further
/// behind the log than `ready_max_lag` (a server still replaying would answer stale pages).
#[derive(Debug, Clone)]
pub struct Readiness {
    pub pending_migrations: usize,
    /// The projections too far behind, with their lag in milliseconds.
    pub lagging: Vec<(&'static str, i64)>,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.pending_migrations == 0 && self.lagging.is_empty()
    }

    /// Why not, in a sentence for the operator.
    pub fn reason(&self) -> String {
        let mut reasons = Vec::new();
        if self.pending_migrations > 0 {
            reasons.push(format!(
                "{} migrations not applied",
                self.pending_migrations
            ));
        }
        for (name, lag_ms) in &self.lagging {
            reasons.push(format!("projection {name} is {lag_ms} ms behind the log"));
        }
        reasons.join("; ")
    }
}

pub async fn readiness(cantine: &Cantine) -> AppResult<Readiness> {
    let pending_migrations = db::operations::pending_migrations(&cantine.pool).await?;
    if pending_migrations > 0 {
        return Ok(Readiness {
            pending_migrations,
            lagging: Vec::new(),
        });
    }
    let bound = cantine.ready_max_lag.num_milliseconds();
    let lagging = projection_statuses(cantine)
        .await?
        .into_iter()
        .filter(|s| s.lag_ms > bound)
        .map(|s| (s.name, s.lag_ms))
        .collect();
    Ok(Readiness {
        pending_migrations,
        lagging,
    })
}

/// The metrics in Prometheus' text format: the counters kept as things happened, and the
/// gauges that describe the database, read now.
pub async fn metrics_text(cantine: &Cantine) -> AppResult<String> {
    let metrics = &cantine.metrics;
    let timer = metrics.scrape_seconds.start_timer();
    // Counted before this scrape takes connections of its own.
    let open = cantine.pool.size() as i64;
    let idle = cantine.pool.num_idle() as i64;
    let asked = std::time::Instant::now();
    drop(cantine.pool.acquire().await?);
    metrics
        .pool_acquire_wait_seconds
        .set(asked.elapsed().as_secs_f64());
    for status in projection_statuses(cantine).await? {
        metrics
            .projection_position
            .with_label_values(&[status.name])
            .set(status.checkpoint.global_position);
        metrics
            .projection_lag_seconds
            .with_label_values(&[status.name])
            .set(status.lag_ms as f64 / 1000.0);
    }
    for (projection, times) in cantine.progress.batch_times() {
        metrics.projector_batches(
            projection,
            times.batches,
            times.events,
            &[
                ("waiting", times.waiting.as_secs_f64()),
                ("reading", times.reading.as_secs_f64()),
                ("applying", times.applying.as_secs_f64()),
                ("committing", times.committing.as_secs_f64()),
            ],
        );
    }
    let (awaiting_payment, unconfirmed) =
        db::operations::holds(&cantine.pool, cantine.clock.now()).await?;
    metrics.holds_awaiting_payment.set(awaiting_payment);
    metrics.requests_unconfirmed.set(unconfirmed);
    for (status, count) in db::mail_outbox::counts(&cantine.pool).await? {
        metrics
            .mail_outbox
            .with_label_values(&[status.as_str()])
            .set(count);
    }
    metrics
        .pool_connections
        .with_label_values(&["in_use"])
        .set(open - idle);
    metrics
        .pool_connections
        .with_label_values(&["idle"])
        .set(idle);
    metrics
        .pool_max_connections
        .set(cantine.pool.options().get_max_connections() as i64);
    timer.observe_duration();
    Ok(metrics.render())
}

/// The e-mails of the outbox, newest first (at most 200), of one status (`pending`, `sent`,
/// `failed`) or all: what the staff check when a family says it was not told.
pub async fn mail_outbox(
    cantine: &Cantine,
    status: Option<&str>,
) -> AppResult<Vec<db::mail_outbox::OutboxRow>> {
    if let Some(status) = status {
        if !["pending", "sent", "failed"].contains(&status) {
            return Err(AppError::bad_input(
                "invalid_mail_status",
                "status : pending, sent ou failed",
            ));
        }
    }
    Ok(db::mail_outbox::list(&cantine.pool, status, 200).await?)
}
