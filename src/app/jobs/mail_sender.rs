//! Sends the e-mails the notifications consumer recorded in the outbox: the oldest due first,
//! each leased while it is sent. A refusal or a server that does not answer is tried again
//! later, `CANTINE_MAIL_RETRY_SECONDS` then twice as long each time (at most an hour); after
//! `CANTINE_MAIL_MAX_ATTEMPTS` tries the e-mail is marked failed, counted in `/metrics` and listed
//! to staff. Commands never wait for it.
//!
//! Delivery is at least once: a server that dies after the SMTP server accepted a message and
//! before recording it sends it again after the lease; it keeps its `Message-ID`
//! (`<outbox-ID@…>`), so mail clients show it once.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::app::mail::OutgoingMail;
use crate::app::Cantine;
use crate::db;

/// How often the outbox is looked at when there is nothing to send.
const POLL: Duration = Duration::from_millis(250);
/// E-mails taken at once.
const BATCH: i64 = 20;
/// How long a taken e-mail is left to its sender before another may take it.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// The longest wait between two tries.
const MAX_DELAY_SECONDS: u64 = 3600;

/// When to try again after `attempts` failed tries (1 for the first): `base`, then doubling.
pub fn retry_delay(base_seconds: u64, attempts: u32) -> chrono::Duration {
    let factor = 1u64 << attempts.saturating_sub(1).min(20);
    let seconds = base_seconds.saturating_mul(factor).min(MAX_DELAY_SECONDS);
    chrono::Duration::seconds(seconds as i64)
}

/// The retry rule of the settings.
#[derive(Debug, Clone, Copy)]
pub struct RetryRule {
    pub base_seconds: u64,
    pub max_attempts: u32,
}

impl RetryRule {
    /// After the `attempts`th failed try: when to try again, or `None` when it has failed.
    pub fn next_try(&self, now: DateTime<Utc>, attempts: u32) -> Option<DateTime<Utc>> {
        (attempts < self.max_attempts).then(|| now + retry_delay(self.base_seconds, attempts))
    }
}

pub fn spawn(state: Cantine) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match send_due(&state).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "mail outbox pass failed"),
            }
            tokio::time::sleep(POLL).await;
        }
    })
}

/// One pass: sends what is due (at most a batch); answers how many it took.
pub async fn send_due(state: &Cantine) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let due = db::mail_outbox::claim_due(&state.pool, now, now + LEASE, BATCH).await?;
    for mail in &due {
        let outgoing = OutgoingMail {
            to: mail.recipient.clone(),
            subject: mail.subject.clone(),
            text: mail.text_body.clone(),
            html: mail.html_body.clone(),
            message_key: Some(format!("outbox-{}", mail.id)),
            list_unsubscribe: mail
                .unsubscribe_path
                .as_ref()
                .map(|path| format!("<{}{path}>", state.public_url.trim_end_matches('/'))),
        };
        match state.mailer.deliver(&outgoing).await {
            Ok(()) => {
                db::mail_outbox::mark_sent(&state.pool, mail.id, state.clock.now()).await?;
                tracing::info!(mail = mail.id, kind = %mail.kind, "notification sent");
            }
            Err(e) => {
                let attempts = mail.attempts as u32 + 1;
                let retry_at = state.mail_retry.next_try(state.clock.now(), attempts);
                let error = format!("{e:#}");
                db::mail_outbox::mark_attempt_failed(&state.pool, mail.id, &error, retry_at)
                    .await?;
                match retry_at {
                    Some(at) => tracing::warn!(
                        mail = mail.id, kind = %mail.kind, attempts, error, retry_at = %at,
                        "notification not sent; tried again later"
                    ),
                    None => tracing::error!(
                        mail = mail.id, kind = %mail.kind, attempts, error,
                        "notification failed for good"
                    ),
                }
            }
        }
    }
    Ok(due.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_from_the_base_up_to_an_hour() {
        let delays: Vec<i64> = (1..=9).map(|n| retry_delay(30, n).num_seconds()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(retry_delay(1, 100).num_seconds(), 3600);
    }

    #[test]
    fn the_last_try_gives_up() {
        let rule = RetryRule {
            base_seconds: 1,
            max_attempts: 3,
        };
        let now: DateTime<Utc> = "2017-01-11T13:38:00Z".parse().unwrap();
        assert_eq!(
            rule.next_try(now, 2),
            Some(now + chrono::Duration::seconds(2))
        );
        assert_eq!(rule.next_try(now, 3), None);
    }
}
