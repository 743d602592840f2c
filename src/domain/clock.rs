//! "Now" is injected everywhere a rule depends on it, so that tests and demos can stand at any
//! instant (the first guide happens on 11 January 2017 at 14:38) and move time forward on purpose.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Today in Paris, where the rules' days and cut-offs are.
    fn paris_today(&self) -> chrono::NaiveDate {
        crate::domain::period::paris_day(self.now())
    }
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
    /// Real time counted only up to here once paused (`i64::MAX`: running).
    paused_at_ms: AtomicI64,
}

impl AdjustableClock {
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            start,
            started_at: Instant::now(),
            frozen: false,
            advanced_ms: AtomicI64::new(0),
            paused_at_ms: AtomicI64::new(i64::MAX),
        }
    }

    /// A clock that only moves when told to: for tests that compare exact instants.
    pub fn frozen_at(start: DateTime<Utc>) -> Self {
        Self {
            frozen: true,
            ..Self::starting_at(start)
        }
    }

    /// Stops the clock where it is; from then on it moves only when advanced. For tests whose
    /// steps must not depend on how fast the machine runs them.
    pub fn pause(&self) {
        self.paused_at_ms
            .fetch_min(self.elapsed_ms(), Ordering::SeqCst);
    }

    fn elapsed_ms(&self) -> i64 {
        i64::try_from(self.started_at.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    pub fn advance(&self, by: Duration) {
        self.advanced_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed_ms = if self.frozen {
            0
        } else {
            self.elapsed_ms()
                .min(self.paused_at_ms.load(Ordering::SeqCst))
        };
        self.start
            + Duration::milliseconds(elapsed_ms)
            + Duration::milliseconds(self.advanced_ms.load(Ordering::SeqCst))
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

    #[test]
    fn a_paused_clock_stands_still_until_advanced() {
        let clock = AdjustableClock::starting_at("2017-01-11T13:38:00Z".parse().unwrap());
        clock.pause();
        let paused = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(clock.now(), paused);
        clock.advance(Duration::seconds(1));
        assert_eq!(clock.now(), paused + Duration::seconds(1));
    }
}
