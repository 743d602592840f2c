//! "Now" is injected everywhere a rule depends on it, so that tests and demos can stand at any
//! instant (the first guide happens on 11 January 2017 at 14:38) and move time forward on purpose.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock, for production.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Starts at a chosen instant, then runs at the normal pace; can be pushed forward.
/// Backs `CANTINE_CLOCK` and the admin clock route.
#[derive(Debug)]
pub struct AdjustableClock {
    start: DateTime<Utc>,
    started_at: Instant,
    frozen: bool,
    advanced_ms: AtomicI64,
}

impl AdjustableClock {
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            start,
            started_at: Instant::now(),
            frozen: false,
            advanced_ms: AtomicI64::new(0),
        }
    }

    /// A clock that only moves when told to: for tests that compare exact instants.
    pub fn frozen_at(start: DateTime<Utc>) -> Self {
        Self {
            frozen: true,
            ..Self::starting_at(start)
        }
    }

    pub fn advance(&self, by: Duration) {
        self.advanced_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = if self.frozen {
            Duration::zero()
        } else {
            Duration::from_std(self.started_at.elapsed()).unwrap_or_else(|_| Duration::zero())
        };
        self.start + elapsed + Duration::milliseconds(self.advanced_ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let start = "2017-01-11T13:38:00Z".parse().unwrap();
        let clock = AdjustableClock::frozen_at(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::minutes(61));
        assert_eq!(clock.now(), start + Duration::minutes(61));
    }
}
