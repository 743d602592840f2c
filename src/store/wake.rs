//! The wake-up of other processes' projectors after a reservation's append.
//!
//! A `NOTIFY` sent by a transaction that writes takes the database's notify lock at its
//! pre-commit and keeps it until the transaction ends, WAL flush included: PostgreSQL queues
//! notifications in commit order that way. Sent by the `events` trigger in every append, it made
//! every town's appending transactions commit one at a time, each behind the previous one's
//! flush. The hot path (`append_alone`) therefore asks the trigger to stay quiet
//! (`cantine.notify_after_commit`, migration 0039) and this sends the notification after the
//! commit, from a statement that writes nothing and so flushes nothing. Appends made while one is
//! being sent are woken by the next one: one in flight, one waiting, the rest folded in.
//!
//! This process's own projectors are nudged directly (`ProjectionProgress::record_write`); a
//! notification lost with a crash between the commit and the send is made up for by the
//! projectors' poll.

use sqlx::PgPool;
use tokio::sync::mpsc;

pub struct Wake {
    due: mpsc::Sender<()>,
}

impl Wake {
    /// Starts the sender; it ends when the `Wake` is dropped.
    pub fn start(pool: PgPool) -> Self {
        let (due, mut wanted) = mpsc::channel::<()>(1);
        tokio::spawn(async move {
            let mut channel = None;
            while wanted.recv().await.is_some() {
                if let Err(e) = notify(&pool, &mut channel).await {
                    tracing::warn!(error = %e, "projectors not woken by NOTIFY; they poll");
                }
            }
        });
        Self { due }
    }

    /// Called after an append committed with the trigger quiet.
    pub fn appended(&self) {
        // Full means a notification is already due, and it will cover this append too.
        let _ = self.due.try_send(());
    }
}

async fn notify(pool: &PgPool, channel: &mut Option<String>) -> sqlx::Result<()> {
    let name = match channel {
        Some(name) => name,
        None => {
            // The trigger's channel: named after the oid of the `events` its search path finds.
            let (name,): (String,) =
                sqlx::query_as("SELECT 'cantine_events_' || 'events'::regclass::oid::text")
                    .fetch_one(pool)
                    .await?;
            channel.insert(name)
        }
    };
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(&*name)
        .execute(pool)
        .await?;
    Ok(())
}
