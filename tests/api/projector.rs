//! The projector's commit order across a power of ten of transaction ids: '999' sorts after
//! '1000' as text, and a batch ordered by the text form checkpointed behind events it had
//! applied, then failed on them for ever (found by the opening-day benchmark).

use serde_json::json;

use cantine::projections::catch_up;
use cantine::projections::reservations::ReservationsProjection;

use crate::helpers::*;

#[tokio::test]
async fn a_batch_crossing_a_power_of_ten_of_transaction_ids_keeps_its_checkpoint() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let second = family_with_child(&app, &canteen.admin, "MARTIN", "Inès").await;
    for f in [&family, &second] {
        app.post(
            "/api/v1/reservations",
            &f.token,
            json!({"child_id": f.child_id, "period_id": canteen.period_id, "days": ["2017-01-23"]}),
        )
        .await
        .assert_status(201);
    }
    let url = app.database_url.clone();
    // The projectors stop between batches, so none is left half-way in a transaction.
    app.stop_background_cleanly().await;
    drop(app);
    let pool = cantine::db::connect(&url, 2).await.unwrap();
    // Wait for anything else still open before the read model is reset: waited for, not
    // slept on, since a busy machine may take longer than any fixed pause.
    eventually("no other transaction open on the database", || async {
        let (open,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()
                AND backend_type = 'client backend'
                AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        open == 0
    })
    .await;
    // The two events as if written by transactions 99 and 100 (both long finished).
    sqlx::query(
        "UPDATE events SET transaction_id = CASE WHEN global_position = (SELECT min(global_position) FROM events)
                                                  THEN '99'::xid8 ELSE '100'::xid8 END",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("TRUNCATE reservation_view, headcount_months, projection_checkpoints")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        catch_up(&pool, &ReservationsProjection)
            .await
            .unwrap()
            .transaction_id,
        100
    );
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM reservation_view")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 2);
    let (checkpoint,): (String,) =
        sqlx::query_as("SELECT last_transaction_id::text FROM projection_checkpoints")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(checkpoint, "100");
    // And again: nothing left to apply, nothing applied twice.
    assert_eq!(
        catch_up(&pool, &ReservationsProjection)
            .await
            .unwrap()
            .transaction_id,
        100
    );
}

/// The log's consumers write their own rows in transactions of their own; while one of them
/// applied a batch, every event committed after its start used to wait for it (seven consumers
/// doubled the cart's projection lag in the rush). A consumer's open transaction (on the
/// consumers' own connections) no longer holds back what is safe to read; any other transaction still does, since it may
/// append.
#[tokio::test]
async fn a_consumer_transaction_does_not_hold_back_the_log_any_other_does() {
    use cantine::projections::projector::{
        consumer_pool, read_checkpoint, safe_head, visible_head,
    };

    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let book = |day: &'static str| {
        app.post(
            "/api/v1/reservations",
            &family.token,
            json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": [day]}),
        )
    };
    let heads = || async {
        let mut conn = app.pool.acquire().await.unwrap();
        (
            safe_head(&mut conn).await.unwrap(),
            visible_head(&mut conn).await.unwrap(),
        )
    };

    // A consumer's transaction, holding a transaction id older than the booking's.
    let consumers = consumer_pool(&app.pool, 1);
    let mut consumer = consumers.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *consumer)
        .await
        .unwrap();
    book("2017-01-23").await.assert_status(201);
    // The service's own projectors and jobs may be in a transaction of their own for a moment:
    // what is asked is that the open batch, which stays open, does not hold the log back.
    eventually(
        "the booking safe to read while the consumer's batch is open",
        || async {
            let (safe, visible) = heads().await;
            safe == visible
        },
    )
    .await;
    let (_, visible) = heads().await;
    // And the projectors apply it meanwhile.
    eventually(
        "the reservations' projection reaching the booking",
        || async {
            let mut conn = app.pool.acquire().await.unwrap();
            read_checkpoint(&mut conn, "reservations").await.unwrap() == visible
        },
    )
    .await;

    // Any other transaction may still append: what commits after it waits until it ends.
    let mut other = app.pool.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *other)
        .await
        .unwrap();
    book("2017-01-24").await.assert_status(201);
    let (safe, visible) = heads().await;
    assert!(
        safe < visible,
        "an event committed behind an open transaction was called safe"
    );
    other.commit().await.unwrap();
    eventually(
        "the second booking safe to read once the other transaction ends",
        || async {
            let (safe, visible) = heads().await;
            safe == visible
        },
    )
    .await;
    consumer.commit().await.unwrap();
}

/// A batch holds its checkpoint against every other holder (a second projector, a rebuild's
/// swap, an audit) without taking a transaction id: an xid held from the batch's first read
/// held back every snapshot's horizon while the notifications decided their e-mails, and with
/// it the pruning of the rows the rush updates most (issue 18's benchmark: HOT updates of the
/// headcounts fell from 98 % to 36 %). A scratch schema's checkpoint is its own.
#[tokio::test]
async fn a_held_checkpoint_takes_no_transaction_id_and_still_keeps_others_out() {
    use cantine::projections::projector::{lock_checkpoint, set_search_path};

    let app = spawn_app().await;
    // A projection's first batch ever writes its checkpoint's row (and takes an xid, once).
    let mut first = app.pool.begin().await.unwrap();
    lock_checkpoint(&mut first, "reservations").await.unwrap();
    first.commit().await.unwrap();

    let mut holder = app.pool.begin().await.unwrap();
    lock_checkpoint(&mut holder, "reservations").await.unwrap();
    let (xid,): (Option<String>,) = sqlx::query_as("SELECT pg_current_xact_id_if_assigned()::text")
        .fetch_one(&mut *holder)
        .await
        .unwrap();
    assert_eq!(xid, None, "holding a checkpoint must not take an xid");

    let mut other = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL lock_timeout = '300ms'")
        .execute(&mut *other)
        .await
        .unwrap();
    let refused = lock_checkpoint(&mut other, "reservations")
        .await
        .expect_err("a second holder waits for the first");
    assert!(
        format!("{refused:#}").contains("lock timeout"),
        "{refused:#}"
    );
    other.rollback().await.unwrap();

    // Another projection's checkpoint, or the same name in a scratch schema, is free.
    sqlx::query("CREATE SCHEMA scratch_checkpoints")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE scratch_checkpoints.projection_checkpoints
           (LIKE public.projection_checkpoints INCLUDING ALL)",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let mut scratch = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL lock_timeout = '10s'")
        .execute(&mut *scratch)
        .await
        .unwrap();
    lock_checkpoint(&mut scratch, "invoices").await.unwrap();
    set_search_path(&mut scratch, "scratch_checkpoints")
        .await
        .unwrap();
    assert_eq!(
        lock_checkpoint(&mut scratch, "reservations").await.unwrap(),
        cantine::projections::Position::START,
        "a scratch schema's checkpoint starts from zero"
    );
    scratch.commit().await.unwrap();

    holder.commit().await.unwrap();
    let mut after = app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL lock_timeout = '10s'")
        .execute(&mut *after)
        .await
        .unwrap();
    lock_checkpoint(&mut after, "reservations").await.unwrap();
    after.commit().await.unwrap();
}

/// The projectors of one service read the log's heads once for all of them: a reading begun
/// after a projector woke is shared, an older one is not (it could miss the commit that woke
/// it).
#[tokio::test]
async fn a_reading_of_the_heads_is_shared_only_with_projectors_woken_before_it() {
    use cantine::projections::ProjectionProgress;
    use std::time::Instant;

    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let progress = ProjectionProgress::default();
    let woken = Instant::now();
    let first = progress.heads(&app.pool, woken).await.unwrap();
    let shared = progress.heads(&app.pool, woken).await.unwrap();
    assert_eq!(
        first.at, shared.at,
        "a reading begun after waking is shared"
    );

    app.post(
        "/api/v1/reservations",
        &family.token,
        json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": ["2017-01-23"]}),
    )
    .await
    .assert_status(201);
    let woken_again = Instant::now();
    let fresh = progress.heads(&app.pool, woken_again).await.unwrap();
    assert!(fresh.at > first.at, "an older reading is not shared");
    assert!(
        fresh.visible > first.visible,
        "the new reading shows the booking"
    );
}

#[tokio::test]
async fn a_commit_of_another_server_wakes_this_servers_projectors_through_one_listener() {
    use cantine::projections::{projector::run_commit_listener, ProjectionProgress};
    use std::sync::Arc;
    use std::time::Duration;

    // Nothing of this service writes here: only what the database says can wake it.
    let url = fresh_database().await;
    let pool = cantine::db::connect(&url, 2).await.unwrap();
    let progress = Arc::new(ProjectionProgress::default());
    let listener = run_commit_listener(
        pool.clone(),
        progress.clone(),
        &cantine::projections::ConsumerPlacement::Shared,
    );
    let other_server = cantine::db::connect(&url, 1).await.unwrap();

    // The listener may not be listening yet when the first commit lands: a few commits, each
    // given a second to be heard.
    let mut heard = false;
    for sequence in 1..=5_i64 {
        let woken = {
            let progress = progress.clone();
            tokio::spawn(async move { progress.nudged().await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('Probe', 'listener', $1, 'Probed', '1.0', '{}', '{}')",
        )
        .bind(sequence)
        .execute(&other_server)
        .await
        .unwrap();
        if tokio::time::timeout(Duration::from_secs(1), woken)
            .await
            .is_ok()
        {
            heard = true;
            break;
        }
    }
    listener.abort();
    assert!(
        heard,
        "another server's commit woke this server's projectors"
    );
}

#[tokio::test]
async fn a_service_listens_for_commits_on_one_connection_whatever_its_number_of_projectors() {
    let app = spawn_app().await;
    let listening = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    // The projectors take the lead one by one after the start; each used to listen on a
    // connection of its own once it led.
    let mut seen = 0;
    for _ in 0..30 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        seen = seen.max(listening().await);
    }
    assert_eq!(seen, 1, "one listening connection for the whole service");
}

/// The lock and the checkpoint's read go in one message: the read must still see what the
/// previous holder committed while this one waited, or a batch would apply its events twice.
#[tokio::test]
async fn a_checkpoint_read_after_waiting_for_its_lock_sees_what_the_holder_committed() {
    use cantine::projections::projector::lock_checkpoint;
    use cantine::projections::Position;

    let app = spawn_app().await;
    app.stop_background_cleanly().await;
    let mut holder = app.pool.begin().await.unwrap();
    let before = lock_checkpoint(&mut holder, "ledger").await.unwrap();
    sqlx::query(
        "UPDATE projection_checkpoints
            SET last_transaction_id = '4000000'::xid8, last_position = 123456
          WHERE name = 'ledger'",
    )
    .execute(&mut *holder)
    .await
    .unwrap();

    // A connection of its own: the waiter must wait on the lock, not for a pool's connection.
    let pool = cantine::db::connect(&app.database_url, 1).await.unwrap();
    let waiter = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            let seen = lock_checkpoint(&mut tx, "ledger").await.unwrap();
            tx.commit().await.unwrap();
            seen
        })
    };
    let mut waiting = false;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event = 'advisory'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if n > 0 {
            waiting = true;
            break;
        }
    }
    assert!(waiting, "the second holder waits on the checkpoint's lock");
    holder.commit().await.unwrap();

    let seen = waiter.await.unwrap();
    assert_ne!(seen, before);
    assert_eq!(seen, Position::parse("4000000", 123456).unwrap());
}

/// The projectors and the commit listener run on a thread of their own
/// (`CANTINE_PROJECTOR_THREADS`, one by default for a single-town install): an event committed
/// while every thread of the server's runtime is blocked still reaches the read model. On the
/// server's threads, each round trip of a batch waited for its turn behind the requests in
/// flight (BENCHMARKS.md, fifteenth round).
#[tokio::test]
async fn the_read_model_advances_while_the_servers_threads_are_busy() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let booked = book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    let booked = uuid::Uuid::parse_str(&booked).unwrap();
    all_fresh(&app).await;
    let url = app.database_url.clone();
    // Another OS thread commits a copy of that request, as another server would, and watches
    // the read model, while this thread, which runs the test's server, is blocked in `join`.
    let watcher = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let pool = cantine::db::connect(&url, 1).await.unwrap();
                let copy = uuid::Uuid::new_v4();
                sqlx::query(
                    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                         event_version, payload, metadata)
                     SELECT aggregate_type, $2, sequence, event_type, event_version,
                            jsonb_set(payload, '{ReservationRequested,reservation_id}', to_jsonb($2)),
                            metadata
                       FROM events WHERE aggregate_id = $1 AND event_type = 'ReservationRequested'",
                )
                .bind(booked.to_string())
                .bind(copy.to_string())
                .execute(&pool)
                .await
                .unwrap();
                let started = std::time::Instant::now();
                while started.elapsed() < std::time::Duration::from_secs(20) {
                    let seen: Option<(String,)> =
                        sqlx::query_as("SELECT status FROM reservation_view WHERE id = $1")
                            .bind(copy)
                            .fetch_optional(&pool)
                            .await
                            .unwrap();
                    if let Some((status,)) = seen {
                        return Some(status);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                None
            })
    });
    let seen = watcher.join().unwrap();
    assert_eq!(seen.as_deref(), Some("requested"));
}

/// A batch held back by an older transaction counts that time as its wait: the counters on
/// `/metrics` tell a projector that waits from one that works (BENCHMARKS.md, sixteenth round).
#[tokio::test]
async fn a_batch_held_back_by_an_older_transaction_counts_the_hold_as_its_wait() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    all_fresh(&app).await;
    let waited = || {
        app.state
            .progress
            .batch_times()
            .into_iter()
            .find(|(name, _)| *name == "reservations")
            .map_or(std::time::Duration::ZERO, |(_, times)| times.waiting)
    };
    let before = waited();

    // A transaction that may still append, older than the booking: the booking waits for it.
    let mut older = app.pool.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *older)
        .await
        .unwrap();
    app.post(
        "/api/v1/reservations",
        &family.token,
        json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": ["2017-01-23"]}),
    )
    .await
    .assert_status(201);
    let hold = std::time::Duration::from_millis(400);
    tokio::time::sleep(hold).await;
    older.commit().await.unwrap();
    all_fresh(&app).await;
    let wait = waited() - before;
    assert!(
        wait >= hold - std::time::Duration::from_millis(100),
        "the reservations' batch waited {wait:?} behind a transaction held {hold:?}"
    );
}
