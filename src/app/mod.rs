//! The application: the only door from the web (and the command line) to the rest. [`Cantine`]
//! is built once from the settings and holds the pool, the clock, the mailer, the payment
//! provider and the command executor; the use cases take it and typed values.
//!
//! Assembles the service: pool, clock, command side, projector and background tasks.

pub mod accounts;
pub mod administration;
pub mod caller;
pub mod credit_notes;
pub mod demo;
pub mod demo_documents;
pub mod desk_payments;
pub mod documents;
pub mod error;
pub mod invoicing;
pub mod jobs;
pub mod mail;
pub mod mail_preferences;
pub mod payment_provider;
pub mod payments;
pub mod queries;
pub mod refunds;
pub mod reservations;
pub mod sepa;
pub mod town;
pub mod towns;
pub mod waitlist;

use std::sync::Arc;

pub use caller::Caller;
pub use error::{AppError, AppResult, Refusal};

use sqlx::PgPool;
use tokio::sync::Notify;

use self::accounts::throttle::Throttles;
use self::jobs::{expiry, reconciliation};
use self::mail::Mailer;
use self::payment_provider::{PaymentProvider, SignedRedirect, Simulator};
use crate::config::Settings;
use crate::db;
use crate::db::reference::Organisation;
use crate::db::reservation_services::PgReservationServices;
use crate::domain::clock::{AdjustableClock, Clock, SystemClock};
use crate::projections::{self, run_projector, ProjectionProgress, ProjectorHandle};
use crate::store::commands::ReservationCommands;
use crate::telemetry::metrics::Metrics;

/// The development key of payment notifications, used (and announced) when none is configured.
pub const DEV_PAYMENT_SECRET: &str = "cantine-development-payment-secret";

/// What the deployment decides about the HTTP edge, as the web layer reads it.
#[derive(Debug, Clone, Default)]
pub struct SecuritySettings {
    /// Behind a reverse proxy, the client address is the last `X-Forwarded-For` entry
    /// (`CANTINE_TRUST_FORWARDED_FOR=1`); otherwise that header is ignored.
    pub trust_forwarded_for: bool,
    /// Origins allowed to call the API from a browser (`CANTINE_CORS_ORIGINS`, comma-separated);
    /// empty: CORS off.
    pub cors_origins: Vec<String>,
    /// `Strict-Transport-Security` on every answer (when the public URL is https).
    pub hsts: bool,
}

impl SecuritySettings {
    pub fn new(settings: &Settings, public_url: &str) -> Self {
        Self {
            trust_forwarded_for: settings.trust_forwarded_for,
            cors_origins: settings.cors_origins(),
            hsts: public_url.starts_with("https://"),
        }
    }
}

#[derive(Clone)]
pub struct Cantine(Arc<Inner>);

pub struct Inner {
    pub pool: PgPool,
    pub clock: Arc<dyn Clock>,
    /// Present only when started with `CANTINE_CLOCK`: it enables the admin clock route.
    pub adjustable_clock: Option<Arc<AdjustableClock>>,
    pub commands: ReservationCommands,
    pub progress: Arc<ProjectionProgress>,
    pub expiry_wake: Arc<Notify>,
    pub payment_provider: Arc<dyn PaymentProvider>,
    /// The key of the portal's CSRF tokens: the service's own (`service_keys`), never the
    /// payment provider's secret.
    pub portal_secret: Vec<u8>,
    /// Present when the simulator is the provider: its pages exist only then.
    pub simulator: Option<Arc<Simulator>>,
    pub organisation: Organisation,
    pub public_url: String,
    pub mailer: Mailer,
    pub throttles: Throttles,
    pub security: SecuritySettings,
    /// Counted as things happen, read by `GET /metrics`.
    pub metrics: Metrics,
    /// How `GET /metrics` may be read (a listener of its own, or a token).
    pub metrics_access: MetricsAccess,
    /// `GET /ready` answers 503 while a projection is further behind the log than this.
    pub ready_max_lag: chrono::Duration,
    /// Days after issue before the first and the second reminder of an unpaid invoice.
    pub reminder_days: (u32, u32),
    /// When the outbox's sender tries a refused e-mail again, and when it gives up.
    pub mail_retry: jobs::mail_sender::RetryRule,
    /// Minutes before a prepaid hold's deadline its family is reminded.
    pub hold_reminder_minutes: u32,
}

/// Who may read the metrics on the service's own listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Served on `CANTINE_METRICS_LISTEN` only: the public listener answers 404.
    OwnListener,
    /// Served on the public listener to `Authorization: Bearer <token>` only.
    Token(String),
    /// Neither configured: not served at all.
    Off,
}

impl std::ops::Deref for Cantine {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The running service's background tasks; dropping them stops nothing, `shutdown` does (from
/// any clone: the server's run and a test's handle share the same tasks).
#[derive(Clone)]
pub struct Background(Arc<BackgroundTasks>);

struct BackgroundTasks {
    projectors: Vec<ProjectorHandle>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    progress: Arc<ProjectionProgress>,
}

/// How long a stopping service waits for a projector's batch in progress to commit.
const BATCH_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

impl Background {
    pub fn shutdown(&self) {
        self.0.projectors.iter().for_each(ProjectorHandle::abort);
        self.0.tasks.iter().for_each(tokio::task::JoinHandle::abort);
    }

    /// Stops the service's background work cleanly: the jobs at once, the projectors once the
    /// batch they may be applying has committed (what it wrote is kept, and the next start goes
    /// on from its checkpoint).
    pub async fn stop(&self) {
        self.0.tasks.iter().for_each(tokio::task::JoinHandle::abort);
        let quiet = self.0.progress.quiesce(BATCH_GRACE).await;
        if quiet.is_none() {
            tracing::warn!("a projector batch outlasted the grace period: it is rolled back");
        }
        self.0.projectors.iter().for_each(ProjectorHandle::abort);
    }

    /// Stops the jobs (expiry, schedules, sweep, reconciliation) and leaves the projectors
    /// running: what a test needs to call a job itself without the service's own run racing it.
    pub fn stop_jobs(&self) {
        self.0.tasks.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

impl Cantine {
    /// Waits (briefly) until the projection shows every event committed before this call.
    pub async fn fresh(&self, projection: &'static str) {
        self.progress
            .wait_for(&self.pool, projection, std::time::Duration::from_secs(5))
            .await
    }
}

/// The application on this (migrated) database, with the organisation already recorded, and
/// its background tasks started. `public_url` is where users reach it (known once the listener
/// is bound).
pub async fn build(
    pool: PgPool,
    settings: &Settings,
    public_url: String,
) -> anyhow::Result<(Cantine, Background)> {
    let organisation = db::reference::organisation(&pool).await?.ok_or_else(|| {
        anyhow::anyhow!(
            "no organisation in the database: run the migrations and load reference data"
        )
    })?;
    let (clock, adjustable_clock): (Arc<dyn Clock>, Option<Arc<AdjustableClock>>) =
        match settings.clock {
            Some(start) => {
                let clock = Arc::new(AdjustableClock::starting_at(start));
                (clock.clone(), Some(clock))
            }
            None => (Arc::new(SystemClock), None),
        };
    let progress = Arc::new(ProjectionProgress::default());
    let services = Arc::new(PgReservationServices::new(pool.clone(), clock.clone()));
    let metrics = Metrics::new();
    let commands =
        ReservationCommands::new(pool.clone(), services, progress.clone(), metrics.clone());
    if let Some(problem) = settings.production_problem(&public_url) {
        anyhow::bail!(problem);
    }
    let payment_secret = match &settings.payment_secret {
        Some(secret) => secret.clone().into_bytes(),
        None => {
            tracing::warn!(
                "CANTINE_PAYMENT_SECRET is unset: payment notifications use the development key"
            );
            DEV_PAYMENT_SECRET.as_bytes().to_vec()
        }
    };
    let (payment_provider, simulator): (Arc<dyn PaymentProvider>, Option<Arc<Simulator>>) =
        match &settings.payment_page_url {
            Some(page) => (Arc::new(SignedRedirect::new(page, &payment_secret)), None),
            None => {
                let simulator = Arc::new(Simulator::new(&public_url, &payment_secret));
                (simulator.clone(), Some(simulator))
            }
        };
    tracing::info!(provider = payment_provider.name(), "payment provider");
    let mailer = Mailer::configured(settings)?;
    tracing::info!(mail = %mailer.describe(), "outgoing e-mail");
    let security = SecuritySettings::new(settings, &public_url);
    let state = Cantine(Arc::new(Inner {
        pool: pool.clone(),
        clock,
        adjustable_clock,
        commands,
        progress: progress.clone(),
        expiry_wake: Arc::new(Notify::new()),
        payment_provider,
        portal_secret: db::service_keys::key(&pool, "csrf").await?,
        simulator,
        organisation,
        public_url,
        mailer,
        throttles: Throttles::default(),
        security,
        metrics,
        metrics_access: match (&settings.metrics_listen, &settings.metrics_token) {
            (Some(_), _) => MetricsAccess::OwnListener,
            (None, Some(token)) if !token.is_empty() => MetricsAccess::Token(token.clone()),
            _ => MetricsAccess::Off,
        },
        ready_max_lag: chrono::Duration::milliseconds(settings.ready_max_lag_ms as i64),
        reminder_days: (
            settings.reminder_first_days,
            settings
                .reminder_second_days
                .max(settings.reminder_first_days),
        ),
        mail_retry: jobs::mail_sender::RetryRule {
            base_seconds: settings.mail_retry_seconds,
            max_attempts: settings.mail_max_attempts,
        },
        hold_reminder_minutes: settings.hold_reminder_minutes,
    }));
    // The notifications consumer is driven like a projection, but is not one of them: a
    // rebuild or an audit replay must not decide the e-mails again.
    let projectors = projections::all()
        .into_iter()
        .chain([
            Arc::new(projections::notifications::NotificationsConsumer {
                public_url: state.public_url.clone(),
            }) as Arc<dyn projections::Projection>,
            Arc::new(projections::waitlist_promotion::WaitlistPromotionConsumer),
        ])
        .collect::<Vec<_>>();
    // Each consumer holds one connection for its lock while it leads, and one more for a batch
    // or a look at the log's head; one more listens for the log's commits.
    let consumers = projections::consumer_pool(&pool, 3 * projectors.len() as u32);
    let placement = projections::place_service(settings.projector_threads.unwrap_or(0))
        .map_err(|e| anyhow::anyhow!("starting the consumers' threads: {e}"))?;
    let projectors = projectors
        .into_iter()
        .map(|projection| {
            let tick = std::time::Duration::from_millis(settings.consumer_tick_ms);
            run_projector(
                consumers.clone(),
                projection,
                progress.clone(),
                &placement,
                tick,
            )
        })
        .chain([projections::projector::run_commit_listener(
            consumers.clone(),
            progress.clone(),
            &placement,
        )])
        .collect();
    let tasks = vec![
        expiry::spawn(state.clone()),
        jobs::invoicing_schedule::spawn(state.clone()),
        reconciliation::spawn(pool.clone()),
        jobs::credit_note_sweep::spawn(state.clone()),
        jobs::reminders::spawn(state.clone()),
        jobs::mail_sender::spawn(state.clone()),
        jobs::waitlist_promoter::spawn(state.clone()),
        jobs::hold_reminders::spawn(state.clone()),
    ];
    let background = Background(Arc::new(BackgroundTasks {
        projectors,
        tasks,
        progress,
    }));
    Ok((state, background))
}
