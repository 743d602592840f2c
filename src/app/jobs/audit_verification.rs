//! `audit verify` from the back office: a job, not a request that waits minutes. It checks the
//! audit chain against the log (which event was edited, removed or slipped in), then replays the
//! log from zero and compares every projection, saying how far it got as it goes; the latest
//! run's outcome stays for the auditors' page.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::app::{AppResult, Caller, Cantine};
use crate::db;
use crate::db::audit_log::verify_chain;
use crate::db::audit_verifications::VerificationRow;
use crate::projections;

/// A run that has not said it is alive for this long was cut by a stop of its server. (Its
/// phases are short next to this: a replay of a town's year takes seconds to a few minutes.)
const SILENT_FOR: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Checking the audit chain against the log.
    Chain,
    /// Replaying the log into a scratch schema and comparing every projection.
    Projections,
    Done,
    Failed,
}

#[derive(Debug, Clone)]
pub struct TableDifference {
    pub table: String,
    pub differing_rows: i64,
}

/// A verification run as the auditors' page shows it.
#[derive(Debug, Clone)]
pub struct Verification {
    pub id: Uuid,
    pub started_at: DateTime<Utc>,
    pub started_by: Option<String>,
    pub phase: Phase,
    pub finished_at: Option<DateTime<Utc>>,
    pub checked: Option<i64>,
    /// Positions of events whose content no longer matches their seal (hand-edited).
    pub changed: Vec<i64>,
    pub removed: Vec<i64>,
    pub inserted: Vec<i64>,
    pub differences: Vec<TableDifference>,
    pub error: Option<String>,
}

impl Verification {
    pub fn running(&self) -> bool {
        matches!(self.phase, Phase::Chain | Phase::Projections)
    }

    pub fn differing_rows(&self) -> i64 {
        self.differences.iter().map(|d| d.differing_rows).sum()
    }

    /// Finished, with the chain whole and every projection equal to its replay.
    pub fn intact(&self) -> bool {
        self.phase == Phase::Done
            && self.changed.is_empty()
            && self.removed.is_empty()
            && self.inserted.is_empty()
            && self.differing_rows() == 0
    }
}

impl From<VerificationRow> for Verification {
    fn from(row: VerificationRow) -> Self {
        let phase = match row.phase.as_str() {
            "chain" => Phase::Chain,
            "projections" => Phase::Projections,
            "done" => Phase::Done,
            _ => Phase::Failed,
        };
        let differences = row
            .differences
            .as_ref()
            .and_then(|d| d.as_array())
            .map(|tables| {
                tables
                    .iter()
                    .map(|t| TableDifference {
                        table: t["table"].as_str().unwrap_or_default().to_string(),
                        differing_rows: t["differing_rows"].as_i64().unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Verification {
            id: row.id,
            started_at: row.started_at,
            started_by: row.started_by_login,
            phase,
            finished_at: row.finished_at,
            checked: row.checked,
            changed: row.changed,
            removed: row.removed,
            inserted: row.inserted,
            differences,
            error: row.error,
        }
    }
}

/// Starts a verification (or joins the one running) and answers its id at once.
pub async fn start(cantine: &Cantine, caller: &Caller) -> AppResult<Uuid> {
    abandon_silent(cantine).await?;
    let (id, started) =
        db::audit_verifications::start(&cantine.pool, caller.user_id, cantine.clock.now()).await?;
    if started {
        tracing::info!(by = %caller.user_id, verification = %id, "audit verification started");
        let cantine = cantine.clone();
        tokio::spawn(async move {
            if let Err(e) = run(&cantine, id).await {
                tracing::error!(verification = %id, error = %format!("{e:#}"), "audit verification failed");
                let _ = db::audit_verifications::fail(
                    &cantine.pool,
                    id,
                    &format!("{e:#}"),
                    cantine.clock.now(),
                )
                .await;
            }
        });
    }
    Ok(id)
}

async fn run(cantine: &Cantine, id: Uuid) -> anyhow::Result<()> {
    let chain = verify_chain(&cantine.pool).await?;
    let positions = |p: &[i64]| p.to_vec();
    db::audit_verifications::chain_checked(
        &cantine.pool,
        id,
        chain.checked as i64,
        &positions(&chain.changed),
        &positions(&chain.removed),
        &positions(&chain.inserted),
        cantine.clock.now(),
    )
    .await?;
    let verification = projections::rebuild::verify(&cantine.pool, &projections::all()).await?;
    let differences: Vec<(String, i64)> = verification
        .differences
        .iter()
        .map(|d| (d.table.clone(), d.differing_rows))
        .collect();
    db::audit_verifications::finish(&cantine.pool, id, &differences, cantine.clock.now()).await?;
    tracing::info!(verification = %id, "audit verification finished");
    Ok(())
}

/// A run whose server stopped during it will never finish: it is marked so, and may start again.
async fn abandon_silent(cantine: &Cantine) -> AppResult<()> {
    if let Some(latest) = db::audit_verifications::latest(&cantine.pool).await? {
        let now = cantine.clock.now();
        if latest.finished_at.is_none() && now - latest.updated_at > Duration::minutes(SILENT_FOR) {
            db::audit_verifications::abandon(&cantine.pool, latest.id, now).await?;
        }
    }
    Ok(())
}

/// The latest run, finished or not.
pub async fn latest(cantine: &Cantine) -> AppResult<Option<Verification>> {
    abandon_silent(cantine).await?;
    Ok(db::audit_verifications::latest(&cantine.pool)
        .await?
        .map(Verification::from))
}
