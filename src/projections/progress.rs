use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{watch, Notify};

/// Read-your-writes inside one server: commands count what they wrote, the projector says how
/// far it has applied, and a read may wait (briefly) for the writes that preceded it.
#[derive(Debug)]
pub struct ProjectionProgress {
    written: AtomicU64,
    applied: watch::Sender<u64>,
    wake: Notify,
}

impl Default for ProjectionProgress {
    fn default() -> Self {
        Self {
            written: AtomicU64::new(0),
            applied: watch::channel(0).0,
            wake: Notify::new(),
        }
    }
}

impl ProjectionProgress {
    pub fn record_write(&self) {
        self.written.fetch_add(1, Ordering::SeqCst);
        self.wake.notify_one();
    }

    pub fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    pub(crate) async fn woken(&self) {
        self.wake.notified().await
    }

    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Everything written up to `written` has been applied.
    pub(crate) fn mark_applied(&self, written: u64) {
        self.applied.send_if_modified(|current| {
            if written > *current {
                *current = written;
                true
            } else {
                false
            }
        });
    }

    /// Waits until the writes made so far by this server are visible in the projections.
    /// Gives up after `limit`: a reader then sees slightly older rows, never wrong ones.
    pub async fn wait_for_own_writes(&self, limit: Duration) {
        let target = self.written();
        let mut applied = self.applied.subscribe();
        let _ = tokio::time::timeout(limit, applied.wait_for(|done| *done >= target)).await;
    }
}
