//! The deployment's settings, read once at start: each is a command-line option and an
//! environment variable (`--listen` or `CANTINE_LISTEN`), with its default spelled here and
//! nowhere else. `cantine serve --help` lists them. Tests build a [`Settings`] from
//! [`Settings::defaults`] and change what they need.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use clap::{Args, CommandFactory, FromArgMatches};

use crate::app::mail::SentMail;
use crate::telemetry::LogFormat;

/// Where the settings appear in `--help`.
const HEADING: &str = "Settings (each also read from the environment variable shown)";

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = HEADING)]
pub struct Settings {
    /// PostgreSQL to use; unset: a private cluster under CANTINE_DATA, started by the program.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Data folder of the private cluster (`pg/`) and of the development e-mails (`mail/`).
    #[arg(
        long,
        env = "CANTINE_DATA",
        global = true,
        default_value = "./.cantine"
    )]
    pub data: PathBuf,

    /// Address to listen on (port 0: any free port).
    #[arg(
        long,
        env = "CANTINE_LISTEN",
        global = true,
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,

    /// The URL users reach (payment redirects, password links); unset: http://<listen address>.
    #[arg(long, env = "CANTINE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Starts the clock at this RFC 3339 instant and enables POST /api/v1/admin/clock; unset:
    /// the wall clock.
    #[arg(long, env = "CANTINE_CLOCK", global = true, value_parser = rfc3339)]
    pub clock: Option<DateTime<Utc>>,

    /// Key of the payment notifications' HMAC; unset: a development key, announced at start.
    #[arg(
        long,
        env = "CANTINE_PAYMENT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub payment_secret: Option<String>,

    /// The payment page of a provider that hosts its own (signed notifications); unset: the
    /// built-in payment simulator.
    #[arg(long, env = "CANTINE_PAYMENT_PAGE_URL", global = true)]
    pub payment_page_url: Option<String>,

    /// The organisation's name (invoices), recorded the first time the service starts.
    #[arg(
        long,
        env = "CANTINE_ORGANISATION",
        global = true,
        default_value = "Communauté de communes Terre de Camargue"
    )]
    pub organisation: String,

    /// The organisation's address (invoices), recorded with its name.
    #[arg(
        long,
        env = "CANTINE_ORGANISATION_ADDRESS",
        global = true,
        default_value = "26 Quai des Croisades, 30220 AIGUES-MORTES"
    )]
    pub organisation_address: String,

    /// Days after a monthly invoice is issued before its first reminder is e-mailed, if it is
    /// not paid by then.
    #[arg(
        long,
        env = "CANTINE_REMINDER_FIRST_DAYS",
        global = true,
        default_value_t = 15
    )]
    pub reminder_first_days: u32,

    /// Days after a monthly invoice is issued before its second (last) reminder.
    #[arg(
        long,
        env = "CANTINE_REMINDER_SECOND_DAYS",
        global = true,
        default_value_t = 30
    )]
    pub reminder_second_days: u32,

    /// The bearer token of the platform operator on an install serving several towns: it
    /// creates towns (`POST /api/v1/platform/towns` on a host that is no town's) and reads
    /// nothing of theirs. Unset: that route is not served.
    #[arg(
        long,
        env = "CANTINE_PLATFORM_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub platform_token: Option<String>,

    /// On an install serving several towns, the town (its host name) that a command other than
    /// `serve` works on: `cantine --town camargue.localhost audit verify`.
    #[arg(long, env = "CANTINE_TOWN", global = true)]
    pub town: Option<String>,

    /// `0` to start without the demo data (loaded only into an empty database).
    #[arg(
        long,
        env = "CANTINE_DEMO",
        global = true,
        default_value = "1",
        value_name = "0|1",
        action = clap::ArgAction::Set,
        value_parser = not_zero
    )]
    pub demo: bool,

    /// Mail server for every e-mail (password links, notifications): `smtp://host:port`,
    /// `smtp://user:pass@host:port`, `?tls=starttls` (lettre's `tls=required` and
    /// `tls=opportunistic`, and `smtps://…`, too); unset: `.eml` files under CANTINE_DATA/mail.
    #[arg(long, env = "CANTINE_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender of those e-mails.
    #[arg(
        long,
        env = "CANTINE_MAIL_FROM",
        global = true,
        default_value = "Portail famille <ne-pas-repondre@cantine.example>"
    )]
    pub mail_from: String,

    /// How many minutes before a prepaid hold's payment deadline its family is reminded by
    /// e-mail (once).
    #[arg(
        long,
        env = "CANTINE_HOLD_REMINDER_MINUTES",
        global = true,
        default_value_t = 15
    )]
    pub hold_reminder_minutes: u32,

    /// A notification the mail server refuses (or a server down) is tried again after this
    /// many seconds, then twice as long each time (at most an hour between tries).
    #[arg(
        long,
        env = "CANTINE_MAIL_RETRY_SECONDS",
        global = true,
        default_value_t = 30
    )]
    pub mail_retry_seconds: u64,

    /// After this many failed tries a notification is marked failed (counted in `/metrics`,
    /// listed to staff) and no longer sent.
    #[arg(
        long,
        env = "CANTINE_MAIL_MAX_ATTEMPTS",
        global = true,
        default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub mail_max_attempts: u32,

    /// Comma-separated origins allowed to call the API from a browser; unset: CORS off.
    #[arg(
        long,
        env = "CANTINE_CORS_ORIGINS",
        global = true,
        value_delimiter = ',',
        value_parser = trimmed
    )]
    pub cors_origins: Vec<String>,

    /// `1` behind a reverse proxy: the client address (login delays, login log) is the last
    /// X-Forwarded-For entry; otherwise that header is ignored.
    #[arg(
        long,
        env = "CANTINE_TRUST_FORWARDED_FOR",
        global = true,
        default_value = "0",
        value_name = "0|1",
        action = clap::ArgAction::Set,
        value_parser = is_one
    )]
    pub trust_forwarded_for: bool,

    /// A second address serving only `GET /metrics` (for Prometheus, on a private network);
    /// unset: metrics on the main listener to `Authorization: Bearer $CANTINE_METRICS_TOKEN`.
    #[arg(long, env = "CANTINE_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,

    /// The bearer token that reads `GET /metrics` on the main listener; with neither this nor
    /// CANTINE_METRICS_LISTEN, metrics are not served.
    #[arg(
        long,
        env = "CANTINE_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,

    /// `GET /ready` answers 503 while a projection is more than this many milliseconds behind
    /// the log (a server still replaying gets no traffic).
    #[arg(
        long,
        env = "CANTINE_READY_MAX_LAG_MS",
        global = true,
        default_value_t = 5000
    )]
    pub ready_max_lag_ms: u64,

    /// Threads the projectors and the other consumers of the log run on, apart from the
    /// requests' (each town's consumers on one of them, in turn); 0 runs them beside the
    /// requests. Unset: one for a single-town install, 0 for an install serving several towns
    /// (BENCHMARKS.md, fifteenth round).
    #[arg(long, env = "CANTINE_PROJECTOR_THREADS", global = true)]
    pub projector_threads: Option<usize>,

    /// How often, in milliseconds, the consumers that do not wake on every write look at the
    /// log: those no request waits for (e-mails, promotions, the audit chain), and those a
    /// request wakes when it waits for them (invoices, the ledger, the waiting lists).
    #[arg(
        long,
        env = "CANTINE_CONSUMER_TICK_MS",
        global = true,
        default_value_t = 100
    )]
    pub consumer_tick_ms: u64,

    /// `human` (default) or `json`: one JSON object a line, for a log collector.
    #[arg(
        long,
        env = "CANTINE_LOG_FORMAT",
        global = true,
        value_enum,
        default_value = "human"
    )]
    pub log_format: LogFormat,

    /// On SIGTERM, how long requests in flight may take to finish before the service stops
    /// anyway (seconds).
    #[arg(
        long,
        env = "CANTINE_SHUTDOWN_GRACE_SECONDS",
        global = true,
        default_value_t = 20
    )]
    pub shutdown_grace_seconds: u64,

    /// Whether `CANTINE_DEMO` was given (on the command line or in the environment) rather than
    /// left at its default: only an explicit demo may run the payment simulator over https.
    #[arg(skip)]
    pub demo_explicit: bool,

    /// Connections in the service's pool (not a deployment setting: the tests ask for fewer).
    #[arg(skip = 32u32)]
    pub pool_size: u32,

    /// Keeps the e-mails in this list instead of sending them (tests read them there).
    #[arg(skip)]
    pub capture_mail: Option<Arc<Mutex<Vec<SentMail>>>>,
}

impl Settings {
    /// Every setting at its default, whatever the environment says (the tests' starting point).
    pub fn defaults() -> Self {
        let command = Defaults::command().mut_args(|arg| arg.env(None::<&'static str>));
        let matches = command
            .try_get_matches_from(["cantine"])
            .expect("the defaults parse");
        Self::from_arg_matches(&matches).expect("the defaults are settings")
    }

    /// What keeps these settings from serving real families: a public https address (a real
    /// deployment) with the development payment key, or with the payment simulator, which marks
    /// payments paid for free, unless an explicit `CANTINE_DEMO=1` says it is a demonstration.
    pub fn production_problem(&self, public_url: &str) -> Option<String> {
        if !public_url.starts_with("https://") {
            return None;
        }
        if self.payment_secret.as_deref().is_none_or(str::is_empty) {
            return Some(
                "CANTINE_PUBLIC_URL is https, so this is a real deployment: set \
                 CANTINE_PAYMENT_SECRET (the key the payment provider signs its notifications \
                 with); the development key is public"
                    .into(),
            );
        }
        if self.payment_page_url.is_none() && !(self.demo && self.demo_explicit) {
            return Some(
                "CANTINE_PUBLIC_URL is https, so this is a real deployment: set \
                 CANTINE_PAYMENT_PAGE_URL (the payment provider's page); the built-in payment \
                 simulator marks payments paid for free and runs only with an explicit \
                 CANTINE_DEMO=1"
                    .into(),
            );
        }
        None
    }

    /// The origins allowed by CORS (blank entries of the list dropped).
    pub fn cors_origins(&self) -> Vec<String> {
        self.cors_origins
            .iter()
            .filter(|o| !o.is_empty())
            .cloned()
            .collect()
    }
}

/// Only to parse the defaults: the settings as a command of their own.
#[derive(clap::Parser)]
struct Defaults {
    #[command(flatten)]
    settings: Settings,
}

fn rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{text:?} is not an RFC 3339 instant ({e})"))
}

/// `CANTINE_DEMO`: anything but `0` keeps the demo.
fn not_zero(text: &str) -> Result<bool, String> {
    Ok(text != "0")
}

/// `CANTINE_TRUST_FORWARDED_FOR`: only `1` trusts the header.
fn is_one(text: &str) -> Result<bool, String> {
    Ok(text == "1")
}

fn trimmed(text: &str) -> Result<String, String> {
    Ok(text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_those_documented() {
        let settings = Settings::defaults();
        assert_eq!(settings.data, PathBuf::from("./.cantine"));
        assert_eq!(settings.listen, "127.0.0.1:8080".parse().unwrap());
        assert!(settings.demo);
        assert!(!settings.trust_forwarded_for);
        assert!(settings.cors_origins().is_empty());
        assert!(settings.database_url.is_none());
        assert_eq!(settings.pool_size, 32);
        assert_eq!(settings.projector_threads, None);
        assert_eq!(settings.consumer_tick_ms, 100);
    }

    #[test]
    fn the_environment_spellings_keep_their_meaning() {
        let parse = |args: &[&str]| {
            let matches = Defaults::command()
                .mut_args(|arg| arg.env(None::<&'static str>))
                .try_get_matches_from(args)
                .unwrap();
            Settings::from_arg_matches(&matches).unwrap()
        };
        let settings = parse(&[
            "cantine",
            "--demo",
            "0",
            "--trust-forwarded-for",
            "yes",
            "--cors-origins",
            " https://a.example , ,https://b.example",
            "--clock",
            "2017-01-11T13:38:00Z",
        ]);
        assert!(!settings.demo);
        assert!(!settings.trust_forwarded_for);
        assert_eq!(
            settings.cors_origins(),
            vec!["https://a.example", "https://b.example"]
        );
        assert_eq!(
            settings.clock,
            Some("2017-01-11T13:38:00Z".parse().unwrap())
        );
        assert!(parse(&["cantine", "--demo", "yes"]).demo);
    }
}
