use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::{watch, Notify};

use super::horizon::Horizons;
use super::projector::{heads_below, read_checkpoint, visible_head};
use super::Position;

/// What this server knows of its projectors, and read-your-writes for the routes: a read first
/// notes the newest committed event, then waits until the projection it reads has passed it.
/// That holds across servers, since it compares with the checkpoint stored in the database.
#[derive(Debug, Default)]
pub struct ProjectionProgress {
    nudge: Notify,
    state: Mutex<HashMap<&'static str, Local>>,
    /// Held (shared) while a projector applies a batch; a stopping service takes it whole, so
    /// that it stops projectors between batches, not in the middle of one.
    batches: tokio::sync::RwLock<()>,
    /// The log's heads as last read by one of this service's projectors, shared by all of them
    /// (see [`ProjectionProgress::heads`]).
    heads: tokio::sync::Mutex<Option<Heads>>,
    /// The name of this log's own connections, as the server's activity shows it.
    own_application: tokio::sync::OnceCell<String>,
    /// Where each live projector's batches spent their time, since the service started.
    batch_times: Mutex<HashMap<&'static str, BatchTimes>>,
}

/// A live projector's batches, summed: how many, the events they took in (every event of the
/// log passes through every projector, whether it changes its rows or not), and their time in
/// each phase. The projection lag is these phases end to end, so an operator (and the
/// benchmark) can tell a projector that waits from one that works. The wait counts from the
/// reading of the log's heads that first showed the batch's events; a consumer on a tick
/// counts none (it waits for its tick by design).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct BatchTimes {
    pub batches: u64,
    pub events: u64,
    /// Seen, not yet started: behind an older transaction still running, or the batch before.
    pub waiting: Duration,
    /// Taking the checkpoint and reading the batch's events.
    pub reading: Duration,
    /// The projection's own work on them: decoding, and its statements.
    pub applying: Duration,
    /// Saving the checkpoint and committing.
    pub committing: Duration,
}

impl std::ops::AddAssign for BatchTimes {
    fn add_assign(&mut self, other: BatchTimes) {
        self.batches += other.batches;
        self.events += other.events;
        self.waiting += other.waiting;
        self.reading += other.reading;
        self.applying += other.applying;
        self.committing += other.committing;
    }
}

/// Where the log ends, read at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Heads {
    /// When the reading began.
    pub at: Instant,
    /// The newest event safe to read in commit order.
    pub safe: Position,
    /// The newest event committed, safe to read or not yet.
    pub visible: Position,
}

#[derive(Debug)]
struct Local {
    leader: bool,
    applied: watch::Sender<Position>,
    /// Whether its projector runs on demand ([`super::Pace::OnDemand`]): only then does a
    /// wait on a server that does not lead it tell the leader (a NOTIFY, whose commit takes
    /// the database's one notification queue lock).
    on_demand: bool,
    /// The furthest position a request has waited for (see [`ProjectionProgress::demand`]).
    demanded: Position,
    /// Wakes a projector on demand; it keeps one wake-up for a projector in the middle of a
    /// batch, which then looks again as soon as it is done.
    demands: Arc<Notify>,
}

impl Local {
    fn new() -> Self {
        Local {
            leader: false,
            applied: watch::channel(Position::START).0,
            on_demand: false,
            demanded: Position::START,
            demands: Arc::new(Notify::new()),
        }
    }
}

impl ProjectionProgress {
    /// Held while one batch is applied and committed.
    pub(crate) async fn batch(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.batches.read().await
    }

    /// Waits until no batch is being applied (at most `limit`), and keeps any new one from
    /// starting while the guard is held. `None`: a batch was still running at the limit.
    pub async fn quiesce(&self, limit: Duration) -> Option<tokio::sync::RwLockWriteGuard<'_, ()>> {
        tokio::time::timeout(limit, self.batches.write()).await.ok()
    }

    /// The log's heads as read at or after `since`: the last reading when it began then, else a
    /// new one. The projectors of one service wake together (on the same commit's NOTIFY, or on
    /// their ticks) and each used to read the heads itself; the safe head's horizon looks at
    /// every backend of the server (about 1.7 ms with the 640 connections of twenty towns),
    /// and with nine projectors a town it took most of the database's time. A reading that
    /// began after a projector woke tells it everything its own would have; an older one would
    /// only be behind (never ahead of what is safe), so sharing it loses nothing. The horizon
    /// itself is shared further, by every town of the process ([`Horizons`]).
    pub async fn heads(&self, pool: &PgPool, since: Instant) -> anyhow::Result<Heads> {
        let mut last = self.heads.lock().await;
        if let Some(heads) = *last {
            if heads.at >= since {
                return Ok(heads);
            }
        }
        let own = self
            .own_application
            .get_or_try_init(|| async {
                // As `commit_safe_horizon()` names it, and `db::towns::town_options` sets it.
                sqlx::query_scalar::<_, String>(
                    "SELECT left($1 || c.relnamespace::regnamespace::text, 63)
                       FROM pg_class c WHERE c.oid = 'events'::regclass",
                )
                .bind(crate::db::towns::TOWN_APPLICATION_PREFIX)
                .fetch_one(pool)
                .await
            })
            .await?;
        let reading = Horizons::of_server(pool).reading(pool, since).await?;
        let (safe, visible) =
            heads_below(&mut *pool.acquire().await?, reading.horizon_for(own)).await?;
        let heads = Heads {
            at: reading.at,
            safe,
            visible,
        };
        *last = Some(heads);
        Ok(heads)
    }

    /// Commands call this after appending, so that the local projector does not wait for the
    /// NOTIFY round trip.
    pub fn record_write(&self) {
        self.nudge.notify_waiters();
    }

    /// Resolves at the next write this service learns of: one of its own commands', or
    /// another server's through the commit listener.
    pub async fn nudged(&self) {
        self.nudge.notified().await
    }

    /// What this server knows of projection `name`, made on first use.
    fn with_local<R>(&self, name: &'static str, f: impl FnOnce(&mut Local) -> R) -> R {
        let mut state = self.state.lock().expect("progress lock");
        f(state.entry(name).or_insert_with(Local::new))
    }

    pub(crate) fn set_leader(&self, name: &'static str, leader: bool) {
        self.with_local(name, |local| local.leader = leader);
    }

    pub(crate) fn applied(&self, name: &'static str, position: Position) {
        self.with_local(name, |local| {
            local.applied.send_if_modified(|current| {
                let moved = position > *current;
                if moved {
                    *current = position;
                }
                moved
            })
        });
    }

    /// Projection `name`'s projector runs on demand, on this server or another one.
    pub(crate) fn set_on_demand(&self, name: &'static str) {
        self.with_local(name, |local| local.on_demand = true);
    }

    /// A request waits for projection `name` to pass `target`: a projector that runs on
    /// demand ([`super::Pace::OnDemand`]) starts its batch now, not at its next tick.
    pub(crate) fn demand(&self, name: &'static str, target: Position) {
        let demands = self.with_local(name, |local| {
            local.demanded = local.demanded.max(target);
            local.demands.clone()
        });
        demands.notify_one();
    }

    /// Another server's request waits for projection `name`, which this server may lead.
    pub(crate) fn demand_by_name(&self, name: &str, target: Position) {
        let known = self
            .state
            .lock()
            .expect("progress lock")
            .keys()
            .find(|known| **known == name)
            .copied();
        if let Some(name) = known {
            self.demand(name, target);
        }
    }

    /// The furthest position a request has waited for in projection `name`.
    pub(crate) fn demanded(&self, name: &'static str) -> Position {
        self.with_local(name, |local| local.demanded)
    }

    /// What wakes projection `name`'s projector on demand.
    pub(crate) fn demands(&self, name: &'static str) -> Arc<Notify> {
        self.with_local(name, |local| local.demands.clone())
    }

    pub(crate) fn record_batches(&self, name: &'static str, times: BatchTimes) {
        *self
            .batch_times
            .lock()
            .expect("batch times lock")
            .entry(name)
            .or_default() += times;
    }

    /// Each live projector's batch times since the service started, by projection name.
    pub fn batch_times(&self) -> Vec<(&'static str, BatchTimes)> {
        let mut times: Vec<_> = self
            .batch_times
            .lock()
            .expect("batch times lock")
            .iter()
            .map(|(name, times)| (*name, *times))
            .collect();
        times.sort_by_key(|(name, _)| *name);
        times
    }

    pub fn is_leader(&self, name: &str) -> bool {
        self.state
            .lock()
            .expect("progress lock")
            .get(name)
            .is_some_and(|l| l.leader)
    }

    /// Whether this server leads projection `name`, whether it runs on demand, and its
    /// position here.
    fn local(&self, name: &'static str) -> (bool, bool, watch::Receiver<Position>) {
        self.with_local(name, |local| {
            (local.leader, local.on_demand, local.applied.subscribe())
        })
    }

    /// Waits until projection `name` shows every event committed before this call.
    /// Gives up after `limit`: the reader then sees slightly older rows, never wrong ones.
    pub async fn wait_for(&self, pool: &PgPool, name: &'static str, limit: Duration) {
        let wait = async {
            let mut conn = pool.acquire().await?;
            let target = visible_head(&mut conn).await?;
            let (leader, on_demand, mut applied) = self.local(name);
            if *applied.borrow() >= target {
                return anyhow::Ok(());
            }
            self.record_write();
            self.demand(name, target);
            if leader {
                applied.wait_for(|p| *p >= target).await?;
                return Ok(());
            }
            if on_demand {
                // The leader may be another server's projector: it hears the demand through
                // its commit listener.
                sqlx::query(
                    "SELECT pg_notify('cantine_demands_' || 'events'::regclass::oid::text, $1)",
                )
                .bind(demand_payload(name, target))
                .execute(&mut *conn)
                .await?;
            }
            loop {
                if read_checkpoint(&mut conn, name).await? >= target {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        match tokio::time::timeout(limit, wait).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(projection = name, error = %e, "could not wait for the projection")
            }
            Err(_) => tracing::warn!(projection = name, "projection still behind after {limit:?}"),
        }
    }
}

/// A demand as another server hears it: the projection's name and the position waited for.
fn demand_payload(name: &str, target: Position) -> String {
    format!("{name} {} {}", target.xid_text(), target.global_position)
}

/// The projection's name and position of a demand another server sent.
pub(crate) fn parse_demand(payload: &str) -> Option<(&str, Position)> {
    let mut parts = payload.split(' ');
    let (name, xid, position) = (parts.next()?, parts.next()?, parts.next()?);
    let position = Position::parse(xid, position.parse().ok()?).ok()?;
    parts.next().is_none().then_some((name, position))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another server hears a demand as it was sent, and ignores what it cannot read.
    #[test]
    fn a_demand_is_read_back_as_sent_and_garbage_is_ignored() {
        let target = Position::parse("1000", 42).unwrap();
        let payload = demand_payload("invoices", target);
        assert_eq!(parse_demand(&payload), Some(("invoices", target)));
        for garbage in [
            "",
            "invoices",
            "invoices 1000",
            "invoices x 42",
            "invoices 1000 42 9",
        ] {
            assert_eq!(parse_demand(garbage), None, "{garbage:?}");
        }
    }

    /// A demand raises what the projector must reach, never lowers it, and wakes a projector
    /// that was not waiting yet when it came.
    #[tokio::test]
    async fn a_demand_keeps_the_furthest_target_and_one_wake_up() {
        let progress = ProjectionProgress::default();
        let (near, far) = (
            Position::parse("10", 1).unwrap(),
            Position::parse("20", 1).unwrap(),
        );
        progress.demand("invoices", far);
        progress.demand("invoices", near);
        assert_eq!(progress.demanded("invoices"), far);
        assert_eq!(progress.demanded("ledger"), Position::START);
        let woken = progress.demands("invoices");
        tokio::time::timeout(Duration::from_millis(50), woken.notified())
            .await
            .expect("the demand made before the wait wakes it");
        assert!(
            tokio::time::timeout(Duration::from_millis(50), woken.notified())
                .await
                .is_err(),
            "one wake-up, however many demands"
        );
        progress.demand_by_name("nobody", far);
        assert_eq!(progress.demanded("nobody"), Position::START);
    }

    /// A stopping service waits for the batch being applied, and no batch starts while it stops.
    #[tokio::test]
    async fn quiesce_waits_for_the_batch_in_progress_and_holds_off_the_next() {
        let progress = ProjectionProgress::default();
        let batch = progress.batch().await;
        assert!(
            progress.quiesce(Duration::from_millis(50)).await.is_none(),
            "a batch in progress is waited for"
        );
        drop(batch);
        let stopped = progress
            .quiesce(Duration::from_millis(50))
            .await
            .expect("no batch left: quiet at once");
        let next = tokio::time::timeout(Duration::from_millis(50), progress.batch()).await;
        assert!(next.is_err(), "no new batch while the service stops");
        drop(stopped);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), progress.batch())
                .await
                .is_ok()
        );
    }
}
