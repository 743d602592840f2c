//! What an operator's Prometheus scrapes: requests by route, commands by kind and outcome,
//! projections' position and lag, holds awaiting payment, the database pool. One registry per
//! running service (not a process-wide one), so that two services in one process (the tests)
//! count apart. Counters are kept as things happen; the gauges that describe the database are
//! read when scraped (`app::queries::operations::metrics_text`).

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Request durations, in seconds: from a cached read (a millisecond) to a whole-year booking
/// under load.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    commands: IntCounterVec,
    pub projection_position: IntGaugeVec,
    pub projection_lag_seconds: prometheus::GaugeVec,
    projection_batches: IntCounterVec,
    projection_batch_events: IntCounterVec,
    projection_batch_seconds: prometheus::CounterVec,
    pub holds_awaiting_payment: IntGauge,
    pub requests_unconfirmed: IntGauge,
    pub mail_outbox: IntGaugeVec,
    pub pool_connections: IntGaugeVec,
    pub pool_max_connections: IntGauge,
    pub pool_acquire_wait_seconds: prometheus::Gauge,
    pub scrape_seconds: Histogram,
}

/// How a command ended, for `cantine_commands_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome<'a> {
    Accepted,
    /// Refused by a rule, with the refusal's stable code.
    Refused(&'a str),
    /// Another command wrote to the same aggregate first: this one is tried again.
    ConflictRetried,
    /// Still conflicting after the last attempt: refused as a concurrent change.
    ConflictGaveUp,
    /// The store failed.
    Failed,
}

impl CommandOutcome<'_> {
    fn labels(self) -> (&'static str, String) {
        match self {
            CommandOutcome::Accepted => ("accepted", String::new()),
            CommandOutcome::Refused(code) => ("refused", code.to_string()),
            CommandOutcome::ConflictRetried => ("conflict_retried", String::new()),
            CommandOutcome::ConflictGaveUp => ("conflict", "concurrent_change".to_string()),
            CommandOutcome::Failed => ("failed", String::new()),
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("cantine".into()), None).expect("a registry");
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by matched route, method and status",
            ),
            &["route", "method", "status"],
        )
        .expect("metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer an HTTP request, by matched route and method",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method"],
        )
        .expect("metric");
        let commands = IntCounterVec::new(
            Opts::new(
                "commands_total",
                "Commands run on an aggregate, by kind and outcome (refusals by their code)",
            ),
            &["aggregate", "kind", "outcome", "code"],
        )
        .expect("metric");
        let projection_position = IntGaugeVec::new(
            Opts::new(
                "projection_position",
                "Global position of the last event applied, by projection",
            ),
            &["projection"],
        )
        .expect("metric");
        let projection_lag_seconds = prometheus::GaugeVec::new(
            Opts::new(
                "projection_lag_seconds",
                "Age of the oldest committed event not yet applied, by projection (0: caught up)",
            ),
            &["projection"],
        )
        .expect("metric");
        let projection_batches = IntCounterVec::new(
            Opts::new(
                "projection_batches_total",
                "Batches of events a live projector applied, by projection",
            ),
            &["projection"],
        )
        .expect("metric");
        let projection_batch_events = IntCounterVec::new(
            Opts::new(
                "projection_batch_events_total",
                "Events a live projector's batches took in (every event of the log, used or not), by projection",
            ),
            &["projection"],
        )
        .expect("metric");
        let projection_batch_seconds = prometheus::CounterVec::new(
            Opts::new(
                "projection_batch_seconds_total",
                "Time a live projector's batches spent, by projection and phase: waiting (events \
                 seen, batch not started), reading, applying, committing",
            ),
            &["projection", "phase"],
        )
        .expect("metric");
        let holds_awaiting_payment = IntGauge::new(
            "holds_awaiting_payment",
            "Prepaid reservations holding places until paid, deadline not yet passed",
        )
        .expect("metric");
        let requests_unconfirmed = IntGauge::new(
            "requests_unconfirmed",
            "Requests holding places until confirmed",
        )
        .expect("metric");
        let mail_outbox = IntGaugeVec::new(
            Opts::new(
                "mail_outbox",
                "E-mail notifications in the outbox, by status (pending, sent, failed)",
            ),
            &["status"],
        )
        .expect("metric");
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Connections of the database pool, in use or idle",
            ),
            &["state"],
        )
        .expect("metric");
        let pool_max_connections = IntGauge::new(
            "db_pool_max_connections",
            "The most connections the pool opens; requests wait beyond it",
        )
        .expect("metric");
        let pool_acquire_wait_seconds = prometheus::Gauge::new(
            "db_pool_acquire_wait_seconds",
            "How long the scrape waited for a pool connection: what a request waits now",
        )
        .expect("metric");
        let scrape_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "metrics_scrape_duration_seconds",
                "Time to read the database gauges of a scrape",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )
        .expect("metric");
        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(commands.clone()),
            Box::new(projection_position.clone()),
            Box::new(projection_lag_seconds.clone()),
            Box::new(projection_batches.clone()),
            Box::new(projection_batch_events.clone()),
            Box::new(projection_batch_seconds.clone()),
            Box::new(holds_awaiting_payment.clone()),
            Box::new(requests_unconfirmed.clone()),
            Box::new(mail_outbox.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_max_connections.clone()),
            Box::new(pool_acquire_wait_seconds.clone()),
            Box::new(scrape_seconds.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Self {
            registry,
            http_requests,
            http_duration,
            commands,
            projection_position,
            projection_lag_seconds,
            projection_batches,
            projection_batch_events,
            projection_batch_seconds,
            holds_awaiting_payment,
            requests_unconfirmed,
            mail_outbox,
            pool_connections,
            pool_max_connections,
            pool_acquire_wait_seconds,
            scrape_seconds,
        }
    }

    /// Brings a projector's batch counters up to the totals its service keeps
    /// (`ProjectionProgress::batch_times`), read at each scrape: counters never go down, so
    /// each grows by what the totals grew since the last one.
    pub fn projector_batches(
        &self,
        projection: &str,
        batches: u64,
        events: u64,
        phases: &[(&str, f64)],
    ) {
        for (counter, total) in [
            (&self.projection_batches, batches),
            (&self.projection_batch_events, events),
        ] {
            let counter = counter.with_label_values(&[projection]);
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        for (phase, seconds) in phases {
            let counter = self
                .projection_batch_seconds
                .with_label_values(&[projection, phase]);
            let grown = seconds - counter.get();
            if grown > 0.0 {
                counter.inc_by(grown);
            }
        }
    }

    /// One answered request. `route` is the route's template (`/api/v1/reservations/{id}`),
    /// never the path itself, so that ids do not make a series each.
    pub fn http_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.http_requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    pub fn command(&self, aggregate: &str, kind: &str, outcome: CommandOutcome<'_>) {
        let (outcome, code) = outcome.labels();
        self.commands
            .with_label_values(&[aggregate, kind, outcome, &code])
            .inc();
    }

    /// Everything in the text format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("the text format encodes");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_show_in_the_text_format_with_their_labels() {
        let metrics = Metrics::new();
        metrics.http_request("/api/v1/reservations/{id}", "GET", 200, 0.003);
        metrics.command(
            "Reservation",
            "request",
            CommandOutcome::Refused("past_cutoff"),
        );
        metrics.command("Reservation", "confirm", CommandOutcome::Accepted);
        let text = metrics.render();
        assert!(text.contains(
            "cantine_http_requests_total{method=\"GET\",route=\"/api/v1/reservations/{id}\",status=\"200\"} 1"
        ), "{text}");
        assert!(text.contains("cantine_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/reservations/{id}\",le=\"0.005\"} 1"), "{text}");
        assert!(text.contains(
            "cantine_commands_total{aggregate=\"Reservation\",code=\"past_cutoff\",kind=\"request\",outcome=\"refused\"} 1"
        ), "{text}");
        assert!(text.contains(
            "cantine_commands_total{aggregate=\"Reservation\",code=\"\",kind=\"confirm\",outcome=\"accepted\"} 1"
        ), "{text}");
    }

    #[test]
    fn two_services_count_apart() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.command("Reservation", "expire", CommandOutcome::Accepted);
        assert!(a.render().contains("kind=\"expire\""));
        assert!(!b.render().contains("kind=\"expire\""));
    }
}
