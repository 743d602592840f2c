//! Where the live projectors' time went during the workload, from the servers' own counters
//! (`cantine_projection_batch*` on `/metrics`): the projection lag the report gives end to end,
//! split into the batches' phases, so that a round can tell a projector that waits (behind an
//! older transaction, or the batch before it) from one that works.

use std::collections::BTreeMap;

use crate::server::Servers;
use crate::setup::{town_url, Reference};

/// The token the benchmark's servers are started with, for their `/metrics`.
pub const METRICS_TOKEN: &str = "bench-metrics-token";

const PHASES: [&str; 4] = ["waiting", "reading", "applying", "committing"];

/// One projection's batches, summed over the servers.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Batches {
    pub batches: f64,
    pub events: f64,
    /// Seconds, in the order of [`PHASES`].
    pub phases: [f64; 4],
}

/// Adds the projector counters of one scrape (Prometheus' text format) to `into`.
pub fn add_scrape(text: &str, into: &mut BTreeMap<String, Batches>) {
    for line in text.lines() {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let Some((name, labels)) = series.split_once('{') else {
            continue;
        };
        let label = |key: &str| {
            labels.trim_end_matches('}').split(',').find_map(|pair| {
                pair.strip_prefix(key)?
                    .strip_prefix("=\"")?
                    .strip_suffix('"')
            })
        };
        let Some(projection) = label("projection") else {
            continue;
        };
        let phase = label("phase").and_then(|p| PHASES.iter().position(|q| *q == p));
        let counted = match (name, phase) {
            ("cantine_projection_batches_total", _) => |b: &mut Batches, v| b.batches += v,
            ("cantine_projection_batch_events_total", _) => |b: &mut Batches, v| b.events += v,
            ("cantine_projection_batch_seconds_total", Some(i)) => {
                into.entry(projection.to_string()).or_default().phases[i] += value;
                continue;
            }
            _ => continue,
        };
        counted(into.entry(projection.to_string()).or_default(), value);
    }
}

/// Every service's counters, summed, and the services that did not answer.
pub struct Scrape {
    pub batches: BTreeMap<String, Batches>,
    pub missed: Vec<String>,
}

/// Scrapes every service: each server, as each town's host name sees it (a town is a service
/// of its own, with its own counters), through the clients' HTTP client, which resolves those
/// names.
pub async fn scrape(servers: &Servers, reference: &Reference) -> Scrape {
    let mut scraped = Scrape {
        batches: BTreeMap::new(),
        missed: Vec::new(),
    };
    for base in servers.base_urls() {
        for town in &reference.towns {
            let url = town_url(&base, town.host.as_deref());
            let answer = servers
                .http
                .get(format!("{url}/metrics"))
                .bearer_auth(METRICS_TOKEN)
                .send()
                .await
                .and_then(|r| r.error_for_status());
            let text = match answer {
                Ok(answer) => answer.text().await,
                Err(e) => Err(e),
            };
            match text {
                Ok(text) => add_scrape(&text, &mut scraped.batches),
                Err(e) => scraped.missed.push(format!("{url}: {e}")),
            }
        }
    }
    scraped
}

/// One line per projection that applied batches: their number, their size, and each phase's
/// mean time per batch.
pub fn lines(batches: &BTreeMap<String, Batches>) -> Vec<String> {
    batches
        .iter()
        .filter(|(_, b)| b.batches > 0.0)
        .map(|(name, b)| {
            let per_batch = |i: usize| b.phases[i] * 1000.0 / b.batches;
            format!(
                "  {name}: {:.0} batches of {:.1} events; per batch (ms, means): waiting {:.1}, \
                 reading {:.1}, applying {:.1}, committing {:.1}",
                b.batches,
                b.events / b.batches,
                per_batch(0),
                per_batch(1),
                per_batch(2),
                per_batch(3)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counters_of_each_projection_are_summed_over_scrapes_and_phases_kept_apart() {
        let scrape = r#"# HELP cantine_projection_batches_total Batches
# TYPE cantine_projection_batches_total counter
cantine_projection_batches_total{projection="reservations"} 10
cantine_projection_batches_total{projection="ledger"} 4
cantine_projection_batch_events_total{projection="reservations"} 150
cantine_projection_batch_seconds_total{phase="waiting",projection="reservations"} 0.1
cantine_projection_batch_seconds_total{phase="applying",projection="reservations"} 0.25
cantine_projection_lag_seconds{projection="invoices"} 0
cantine_http_requests_total{method="GET",route="/metrics",status="200"} 1
"#;
        let mut batches = BTreeMap::new();
        add_scrape(scrape, &mut batches);
        add_scrape(scrape, &mut batches);
        let reservations = &batches["reservations"];
        assert_eq!(reservations.batches, 20.0);
        assert_eq!(reservations.events, 300.0);
        assert_eq!(reservations.phases, [0.2, 0.0, 0.5, 0.0]);
        assert_eq!(batches["ledger"].batches, 8.0);
        assert_eq!(
            batches.keys().collect::<Vec<_>>(),
            ["ledger", "reservations"],
            "other series are not projections' batches"
        );
        let lines = lines(&batches);
        assert_eq!(lines.len(), 2);
        assert!(
            lines[1].contains("reservations: 20 batches of 15.0 events")
                && lines[1].contains("waiting 10.0")
                && lines[1].contains("applying 25.0"),
            "{lines:?}"
        );
    }
}
