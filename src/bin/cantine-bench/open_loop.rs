//! The open-loop phase's accounting (`--rate`): arrivals on a fixed schedule whatever the
//! answers, and latency measured from each request's scheduled time, so that a request the
//! client could only send late (because the service was slow) counts that delay against the
//! service instead of hiding it (no coordinated omission).
//!
//! The unit of `--rate` is **families started per second**: family `i` (from 0) sends its first
//! request, `POST /reservations` for its first child, at `t0 + i / rate`, whether or not the
//! families before it have been answered. A family's next requests depend on the answers
//! (a confirmation needs the reservation's id), so each is scheduled at the instant the
//! previous answer arrived, as a parent clicking on; its latency runs from that instant.
//!
//! Everything here is a pure function of instants and counts (tested below); the phase itself
//! is driven by `workload::run_open_loop`.

use std::str::FromStr;
use std::time::{Duration, Instant};

/// What `--rate` asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rate {
    /// Families started per second.
    PerSecond(f64),
    /// A share (in %) of the families per second the closed-loop phase of the same run
    /// achieved.
    OfClosedLoop(f64),
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (number, percent) = match s.trim().strip_suffix('%') {
            Some(n) => (n.trim(), true),
            None => (s.trim(), false),
        };
        let value: f64 = number.parse().map_err(|_| {
            format!(
                "`{s}`: a number of families per second (12.5) or a share of the closed loop (80%)"
            )
        })?;
        if !value.is_finite() || value <= 0.0 {
            return Err(format!("`{s}`: the rate must be positive"));
        }
        Ok(if percent {
            Rate::OfClosedLoop(value)
        } else {
            Rate::PerSecond(value)
        })
    }
}

impl Rate {
    /// Families per second, given what the closed loop achieved (families per second).
    pub fn families_per_second(self, closed_loop: f64) -> f64 {
        match self {
            Rate::PerSecond(rate) => rate,
            Rate::OfClosedLoop(share) => closed_loop * share / 100.0,
        }
    }
}

/// When family `index` (from 0) sends its first request: `start + index / rate`.
pub fn scheduled_start(start: Instant, index: usize, families_per_second: f64) -> Instant {
    start + offset(index, families_per_second)
}

/// `index / rate` as a duration, computed from the index (not by adding intervals, which would
/// drift by the rounding of each).
pub fn offset(index: usize, families_per_second: f64) -> Duration {
    Duration::from_secs_f64(index as f64 / families_per_second)
}

/// A request's latency: from when it was scheduled to when its answer arrived. A request sent
/// after its scheduled time (the client was waiting, or the service was slow to answer the
/// one before) is charged that delay.
pub fn latency(scheduled: Instant, answered: Instant) -> Duration {
    answered.saturating_duration_since(scheduled)
}

/// What latency is measured from: the scheduled instant in the open loop, the send in the
/// closed loop.
pub fn origin(scheduled: Option<Instant>, sent: Instant) -> Instant {
    scheduled.unwrap_or(sent)
}

/// Events per second over a span; zero for an empty span.
pub fn rate(count: u64, span: Duration) -> f64 {
    if span.is_zero() {
        0.0
    } else {
        count as f64 / span.as_secs_f64()
    }
}

/// The families per second the starts achieved: `n - 1` intervals between the first and last
/// actual start (one family has no rate).
pub fn achieved_start_rate(starts: &[Instant]) -> f64 {
    match (starts.iter().min(), starts.iter().max()) {
        (Some(first), Some(last)) if starts.len() > 1 => {
            rate(starts.len() as u64 - 1, last.duration_since(*first))
        }
        _ => 0.0,
    }
}

/// How far behind its schedule each start was sent; the largest says whether the client kept
/// the schedule (a client that cannot is measuring itself).
pub fn start_lateness(scheduled: &[Instant], actual: &[Instant]) -> Duration {
    scheduled
        .iter()
        .zip(actual)
        .map(|(s, a)| a.saturating_duration_since(*s))
        .max()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_families_per_second_or_a_share_of_the_closed_loop() {
        assert_eq!("12.5".parse::<Rate>(), Ok(Rate::PerSecond(12.5)));
        assert_eq!(" 80% ".parse::<Rate>(), Ok(Rate::OfClosedLoop(80.0)));
        assert!("0".parse::<Rate>().is_err());
        assert!("-3".parse::<Rate>().is_err());
        assert!("fast".parse::<Rate>().is_err());
        assert!("NaN".parse::<Rate>().is_err());
        assert_eq!(Rate::PerSecond(7.0).families_per_second(100.0), 7.0);
        assert_eq!(Rate::OfClosedLoop(80.0).families_per_second(50.0), 40.0);
        assert_eq!(Rate::OfClosedLoop(50.0).families_per_second(50.0), 25.0);
    }

    #[test]
    fn arrivals_follow_the_schedule_without_drift() {
        let t0 = Instant::now();
        assert_eq!(scheduled_start(t0, 0, 4.0), t0);
        assert_eq!(scheduled_start(t0, 1, 4.0), t0 + Duration::from_millis(250));
        assert_eq!(scheduled_start(t0, 4, 4.0), t0 + Duration::from_secs(1));
        // 1/3 s does not add up exactly; the 3,000th start is still at 1,000 s.
        assert_eq!(offset(3000, 3.0), Duration::from_secs(1000));
        // Evenly spaced whatever the answers: nothing but the index and the rate.
        let gaps: Vec<Duration> = (1..100)
            .map(|i| offset(i, 8.0) - offset(i - 1, 8.0))
            .collect();
        assert!(gaps.iter().all(|g| *g == Duration::from_millis(125)));
    }

    #[test]
    fn latency_runs_from_the_scheduled_time_not_from_the_send() {
        let scheduled = Instant::now();
        // The client could only send 40 ms late (the service was busy); answered 10 ms later.
        let sent = scheduled + Duration::from_millis(40);
        let answered = sent + Duration::from_millis(10);
        assert_eq!(
            latency(origin(Some(scheduled), sent), answered),
            Duration::from_millis(50)
        );
        // The closed loop measures from the send, as before.
        assert_eq!(
            latency(origin(None, sent), answered),
            Duration::from_millis(10)
        );
        // An answer can never be before its schedule.
        assert_eq!(latency(answered, scheduled), Duration::ZERO);
    }

    #[test]
    fn achieved_rates_and_lateness() {
        let t0 = Instant::now();
        let scheduled: Vec<Instant> = (0..5).map(|i| scheduled_start(t0, i, 10.0)).collect();
        // Sent on time but the last one 30 ms late.
        let mut actual = scheduled.clone();
        actual[4] += Duration::from_millis(30);
        assert_eq!(
            start_lateness(&scheduled, &actual),
            Duration::from_millis(30)
        );
        assert_eq!(start_lateness(&scheduled, &scheduled), Duration::ZERO);
        // Four intervals of 100 ms: 10 families/s.
        assert!((achieved_start_rate(&scheduled) - 10.0).abs() < 1e-9);
        // Four intervals over 430 ms.
        assert!((achieved_start_rate(&actual) - 4.0 / 0.43).abs() < 1e-9);
        assert_eq!(achieved_start_rate(&scheduled[..1]), 0.0);
        assert_eq!(achieved_start_rate(&[]), 0.0);
        assert_eq!(rate(30, Duration::from_secs(2)), 15.0);
        assert_eq!(rate(30, Duration::ZERO), 0.0);
    }
}
