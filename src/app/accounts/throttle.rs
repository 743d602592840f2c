//! Slows down password guessing and e-mail flooding, in memory.
//!
//! Two kinds of limits, both answered 429 `too_many_attempts` with `Retry-After`:
//! - a growing delay after failures ([`Backoff`]): each wrong password makes the next attempt
//!   wait twice as long as the previous one, up to a cap; a success forgets it;
//! - a count per window ([`Window`]): at most so many password e-mails an hour.
//!
//! The state is in the process (lost on restart, not shared between two servers): it only has to
//! make guessing slow, and the lock after three wrong passwords, which is stored, does the rest.
//! Time comes from the injected clock so that tests can move past a delay.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// Beyond this many tracked keys, entries whose delay has passed are dropped first, so that a
/// flood of made-up logins or addresses cannot grow the map without bound.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
}

impl Refused {
    /// Whole seconds, rounded up, for the `Retry-After` header.
    pub fn retry_after_seconds(&self) -> i64 {
        (self.retry_after.num_milliseconds() + 999)
            .div_euclid(1000)
            .max(1)
    }
}

/// How long to wait after `failures` failures in a row.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Failures allowed before any delay.
    pub free: u32,
    /// The first delay; each further failure doubles it.
    pub first: Duration,
    pub cap: Duration,
    /// A key quiet for this long starts again from zero.
    pub forget_after: Duration,
}

impl Schedule {
    pub fn delay(&self, failures: u32) -> Duration {
        if failures <= self.free {
            return Duration::zero();
        }
        // 2^20 times the first delay is already beyond any sensible cap.
        let doublings = (failures - self.free - 1).min(20);
        (self.first * 2_i32.pow(doublings)).min(self.cap)
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
}

/// A growing delay per key after failures.
#[derive(Debug)]
pub struct Backoff {
    schedule: Schedule,
    entries: Mutex<HashMap<String, Failures>>,
}

impl Backoff {
    pub fn new(schedule: Schedule) -> Self {
        Self {
            schedule,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Refuses an attempt that comes before the delay earned by earlier failures has passed.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> Result<(), Refused> {
        let entries = self.entries.lock().expect("throttle lock");
        let Some(failures) = entries.get(key) else {
            return Ok(());
        };
        if now - failures.last >= self.schedule.forget_after {
            return Ok(());
        }
        let allowed_at = failures.last + self.schedule.delay(failures.count);
        if now < allowed_at {
            return Err(Refused {
                retry_after: allowed_at - now,
            });
        }
        Ok(())
    }

    pub fn record_failure(&self, key: &str, now: DateTime<Utc>) {
        let mut entries = self.entries.lock().expect("throttle lock");
        if entries.len() >= MAX_KEYS && !entries.contains_key(key) {
            let forget_after = self.schedule.forget_after;
            entries.retain(|_, f| now - f.last < forget_after);
            if entries.len() >= MAX_KEYS {
                // Still full of recent failures: forget the oldest rather than refuse to count.
                if let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, f)| f.last)
                    .map(|(k, _)| k.clone())
                {
                    entries.remove(&oldest);
                }
            }
        }
        let entry = entries.entry(key.to_string()).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now - entry.last >= self.schedule.forget_after {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
    }

    /// The failures counted for the key (none once it has been quiet long enough).
    pub fn failures(&self, key: &str, now: DateTime<Utc>) -> u32 {
        let entries = self.entries.lock().expect("throttle lock");
        entries
            .get(key)
            .filter(|f| now - f.last < self.schedule.forget_after)
            .map_or(0, |f| f.count)
    }

    pub fn forget(&self, key: &str) {
        self.entries.lock().expect("throttle lock").remove(key);
    }
}

/// At most `limit` events per key in a sliding `window`.
#[derive(Debug)]
pub struct Window {
    limit: usize,
    window: Duration,
    entries: Mutex<HashMap<String, Vec<DateTime<Utc>>>>,
}

impl Window {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Counts the event if the key is under its limit, refuses it otherwise.
    pub fn hit(&self, key: &str, now: DateTime<Utc>) -> Result<(), Refused> {
        let mut entries = self.entries.lock().expect("throttle lock");
        if entries.len() >= MAX_KEYS && !entries.contains_key(key) {
            let window = self.window;
            entries.retain(|_, times| times.last().is_some_and(|t| now - *t < window));
        }
        let times = entries.entry(key.to_string()).or_default();
        times.retain(|t| now - *t < self.window);
        if times.len() >= self.limit {
            let oldest = times[0];
            return Err(Refused {
                retry_after: oldest + self.window - now,
            });
        }
        times.push(now);
        Ok(())
    }
}

/// The service's limits, with the numbers the security review agreed on.
#[derive(Debug)]
pub struct Throttles {
    /// Wrong passwords on one account: 1 s, 2 s, 4 s… up to a minute, so that a stranger's
    /// failures never keep the family waiting long (the lock, lifted by the password link,
    /// is the guide's rule; this only slows guessing between locks).
    pub account: Backoff,
    /// Wrong passwords from one client address, whatever the account: ten free, then 1 s,
    /// 2 s… up to 15 minutes: spraying one password over many accounts is slow.
    pub address: Backoff,
    /// Password e-mails per client address.
    pub mail_per_address: Window,
    /// Password e-mails per login as typed (known or not, so the answer reveals nothing).
    pub mail_per_login: Window,
}

impl Default for Throttles {
    fn default() -> Self {
        Self {
            account: Backoff::new(Schedule {
                free: 0,
                first: Duration::seconds(1),
                cap: Duration::minutes(1),
                forget_after: Duration::hours(24),
            }),
            address: Backoff::new(Schedule {
                free: 10,
                first: Duration::seconds(1),
                cap: Duration::minutes(15),
                forget_after: Duration::hours(1),
            }),
            mail_per_address: Window::new(10, Duration::hours(1)),
            mail_per_login: Window::new(3, Duration::hours(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        "2017-01-11T13:38:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::seconds(seconds)
    }

    #[test]
    fn each_failure_doubles_the_wait_up_to_the_cap() {
        let s = Schedule {
            free: 0,
            first: Duration::seconds(1),
            cap: Duration::minutes(1),
            forget_after: Duration::hours(24),
        };
        let waits: Vec<i64> = (0..9).map(|n| s.delay(n).num_seconds()).collect();
        assert_eq!(waits, [0, 1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(s.delay(u32::MAX), Duration::minutes(1));
    }

    #[test]
    fn an_attempt_before_the_delay_is_refused_with_the_time_left() {
        let backoff = Backoff::new(Schedule {
            free: 1,
            first: Duration::seconds(10),
            cap: Duration::minutes(1),
            forget_after: Duration::hours(1),
        });
        backoff.record_failure("k", at(0));
        assert_eq!(backoff.check("k", at(0)), Ok(()), "one free failure");
        backoff.record_failure("k", at(0));
        let refused = backoff.check("k", at(4)).unwrap_err();
        assert_eq!(refused.retry_after_seconds(), 6);
        assert_eq!(backoff.check("k", at(10)), Ok(()));
        assert_eq!(backoff.check("other", at(4)), Ok(()), "keys are apart");
        backoff.forget("k");
        assert_eq!(backoff.check("k", at(4)), Ok(()));
    }

    #[test]
    fn a_quiet_key_starts_again_from_zero() {
        let backoff = Backoff::new(Schedule {
            free: 0,
            first: Duration::seconds(10),
            cap: Duration::hours(2),
            forget_after: Duration::minutes(30),
        });
        for _ in 0..5 {
            backoff.record_failure("k", at(0));
        }
        assert!(backoff.check("k", at(60)).is_err());
        assert_eq!(backoff.check("k", at(31 * 60)), Ok(()));
        backoff.record_failure("k", at(31 * 60));
        assert_eq!(
            backoff.check("k", at(31 * 60 + 10)),
            Ok(()),
            "counted from one again"
        );
    }

    #[test]
    fn a_window_counts_events_and_frees_them_as_they_age() {
        let window = Window::new(2, Duration::minutes(60));
        assert!(window.hit("k", at(0)).is_ok());
        assert!(window.hit("k", at(60)).is_ok());
        let refused = window.hit("k", at(120)).unwrap_err();
        assert_eq!(refused.retry_after, Duration::minutes(58));
        assert!(window.hit("j", at(120)).is_ok());
        assert!(window.hit("k", at(3600)).is_ok());
    }
}
