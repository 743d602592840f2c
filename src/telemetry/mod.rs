//! Logging and metrics, set up once, at start. Logs: `RUST_LOG` tunes them, and
//! `CANTINE_LOG_FORMAT=json` writes one JSON object a line (the request's span flattened into
//! it: request id, route, the caller's role and id) for a log collector; the human format stays
//! the default. Metrics: [`metrics::Metrics`], one registry per running service.

pub mod metrics;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for a person reading a terminal.
    #[default]
    Human,
    /// One JSON object a line, for a log collector.
    Json,
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let _ = match format {
        LogFormat::Human => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .try_init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_target(false)
            .try_init(),
    };
}
