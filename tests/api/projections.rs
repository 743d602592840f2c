//! Durable projections: nothing skipped when transactions commit out of order, nothing lost or
//! doubled when a projector dies between batches, rebuilds give the same rows, and the audit
//! tools see through a hand-edited log.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use cantine::domain::account::Role;
use cantine::projections::projector::{apply_batch_in, set_search_path};
use cantine::projections::reservations::ReservationsProjection;
use cantine::projections::{self, Position, Projection, StoredEvent};
use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::helpers::*;

/// A family with a few reservations in every state: paid (with its invoice), awaiting
/// payment, partly cancelled, expired.
async fn populated() -> (TestApp, Canteen, Family) {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let paid = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    pay(&app, &family, &[&paid]).await;
    let partly = book_and_confirm(
        &app,
        &canteen,
        &family,
        &["2017-01-26", "2017-01-27", "2017-01-30"],
    )
    .await;
    app.post(
        &format!("/api/v1/reservations/{partly}/cancel"),
        &family.token,
        json!({"days": ["2017-01-27"]}),
    )
    .await
    .assert_status(200);
    let _unpaid = book_and_confirm(&app, &canteen, &family, &["2017-02-02"]).await;
    // A day without places, and the child in line for it (the waiting lists' projection).
    app.put(
        &format!("/api/v1/admin/periods/{}/capacity", canteen.period_id),
        &canteen.admin,
        json!({"date": "2017-02-06", "capacity": 0}),
    )
    .await
    .assert_status(200);
    app.post(
        "/api/v1/waitlist",
        &family.token,
        json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": ["2017-02-06"]}),
    )
    .await
    .assert_status(201);
    // Counted before the clock moves: the expiry may append its events as soon as it has.
    let events = app.event_count().await;
    app.advance_clock(&canteen.admin, 61).await;
    eventually("the unpaid holds expire", || async {
        let (n,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM events WHERE event_type = 'ReservationExpired'")
                .fetch_one(&app.pool)
                .await
                .unwrap();
        n == 2
    })
    .await;
    assert!(app.event_count().await > events);
    all_fresh(&app).await;
    (app, canteen, family)
}

/// Every projection table as sorted JSON rows, to compare whole states.
async fn snapshot(app: &TestApp) -> Vec<(String, Vec<Value>)> {
    let mut tables = Vec::new();
    for projection in projections::all() {
        for table in projection.tables() {
            let rows: Vec<(Value,)> = sqlx::query_as(&format!(
                "SELECT to_jsonb(t) FROM {table} t ORDER BY to_jsonb(t)::text"
            ))
            .fetch_all(&app.pool)
            .await
            .unwrap();
            tables.push((table.to_string(), rows.into_iter().map(|r| r.0).collect()));
        }
    }
    tables
}

#[tokio::test]
async fn transactions_committing_out_of_order_are_applied_exactly_once() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    book_and_confirm(&app, &canteen, &family, &["2017-01-23"]).await;
    all_fresh(&app).await;
    let template: Template = sqlx::query_as(
        "SELECT event_version, payload, metadata FROM events
          WHERE event_type = 'ReservationRequested' LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();

    // One transaction takes its position first and stays open.
    let mut early = app.pool.begin().await.unwrap();
    insert_request(&mut early, &template).await;
    // Meanwhile a reservation commits through the service: its events come after in position.
    let later = book_and_confirm(&app, &canteen, &family, &["2017-01-24"]).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (seen,): (i64,) = sqlx::query_as("SELECT count(*) FROM reservation_view WHERE id = $1")
        .bind(Uuid::parse_str(&later).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        seen, 0,
        "nothing past an open transaction is applied, or the open one would be skipped"
    );

    // Thirty writers more, each committing in the reverse order of its position.
    let writers = (0..30u64).map(|i| {
        let pool = app.pool.clone();
        let template = template.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            insert_request(&mut tx, &template).await;
            tokio::time::sleep(Duration::from_millis((30 - i) * 7)).await;
            tx.commit().await.unwrap();
        }
    });
    futures::future::join_all(writers).await;
    early.commit().await.unwrap();

    all_fresh(&app).await;
    let (requested,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM events WHERE event_type = 'ReservationRequested'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let (projected,): (i64,) = sqlx::query_as("SELECT count(*) FROM reservation_view")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(requested, 33);
    assert_eq!(projected, requested, "every reservation once");
    let (events, sealed): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM audit_chain)")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(sealed, events, "every event sealed once");
    let (held,): (i64,) = sqlx::query_as(
        "SELECT sum(b + a) FROM headcount_months, unnest(booked, awaiting_payment) AS u(b, a)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(held, 33, "each requested day counted once");
    let all = projections::all();
    for difference in projections::rebuild::verify(&app.pool, &all)
        .await
        .unwrap()
        .differences
    {
        assert_eq!(difference.differing_rows, 0, "{}", difference.table);
    }
}

/// A request's event as the service stored it: version, payload, metadata.
type Template = (String, Value, Value);

async fn insert_request(tx: &mut PgConnection, (version, template, metadata): &Template) {
    let id = Uuid::new_v4();
    let mut payload = template.clone();
    payload["ReservationRequested"]["reservation_id"] = json!(id);
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Reservation', $1, 1, 'ReservationRequested', $4, $2, $3)",
    )
    .bind(id.to_string())
    .bind(payload)
    .bind(metadata)
    .bind(version)
    .execute(tx)
    .await
    .unwrap();
}

/// The reservations projection, made to die at its n-th event like a killed process: the
/// batch's transaction never commits.
struct DiesAt {
    remaining: AtomicUsize,
}

#[async_trait]
impl Projection for DiesAt {
    fn name(&self) -> &'static str {
        ReservationsProjection.name()
    }
    fn tables(&self) -> &'static [&'static str] {
        ReservationsProjection.tables()
    }
    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        if self.remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
            anyhow::bail!("killed");
        }
        ReservationsProjection.apply(tx, event).await
    }
}

/// Runs batches of three events into `schema` until the log is drained or the projection dies.
async fn run_in_batches_of_three(
    app: &TestApp,
    projection: &dyn Projection,
    schema: &str,
) -> anyhow::Result<()> {
    loop {
        let mut tx = app.pool.begin().await?;
        set_search_path(&mut tx, schema).await?;
        let (_, applied) = apply_batch_in(&mut tx, projection, Position::END, 3).await?;
        tx.commit().await?;
        if applied == 0 {
            return Ok(());
        }
    }
}

#[tokio::test]
async fn a_projector_killed_between_batches_loses_nothing_and_applies_nothing_twice() {
    let (app, _, _) = populated().await;
    let schema = "crashed";
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&app.pool)
        .await
        .unwrap();
    for table in ReservationsProjection
        .tables()
        .iter()
        .chain(&["projection_checkpoints"])
    {
        sqlx::query(&format!(
            "CREATE TABLE {schema}.{table} (LIKE public.{table} INCLUDING ALL)"
        ))
        .execute(&app.pool)
        .await
        .unwrap();
    }
    let dying = DiesAt {
        remaining: AtomicUsize::new(8),
    };
    let died = run_in_batches_of_three(&app, &dying, schema).await;
    assert!(died.is_err(), "the projection was meant to die");
    let (position,): (i64,) = sqlx::query_as(&format!(
        "SELECT last_position FROM {schema}.projection_checkpoints"
    ))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(position > 0, "the batches before the death were kept");
    // Restarted: it resumes from its checkpoint.
    run_in_batches_of_three(&app, &ReservationsProjection, schema)
        .await
        .unwrap();
    for table in ReservationsProjection.tables() {
        let (differing,): (i64,) = sqlx::query_as(&format!(
            "SELECT (SELECT count(*) FROM (TABLE public.{table} EXCEPT ALL TABLE {schema}.{table}) a)
                  + (SELECT count(*) FROM (TABLE {schema}.{table} EXCEPT ALL TABLE public.{table}) b)"
        ))
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(differing, 0, "{table}");
    }
}

#[tokio::test]
async fn a_rebuild_from_zero_gives_identical_rows() {
    let (app, _, _) = populated().await;
    let before = snapshot(&app).await;
    assert!(
        before.iter().all(|(_, rows)| !rows.is_empty()),
        "every projection has rows"
    );
    let indexes_before = table_shapes(&app).await;
    assert!(indexes_before.len() > 15, "{indexes_before:?}");
    for projection in projections::all() {
        let report = projections::rebuild::rebuild(&app.pool, projection)
            .await
            .unwrap();
        assert_eq!(report.events as i64, app.event_count().await);
    }
    assert_eq!(snapshot(&app).await, before);
    // Replayed into unlogged copies with their primary keys only, the new tables are logged
    // and have every index and unique constraint again, under the same names.
    assert_eq!(table_shapes(&app).await, indexes_before);
    // The service goes on projecting into the new tables.
    let reply = app
        .get(
            "/api/v1/reservations",
            &crate::helpers::family_token_of(&app).await,
        )
        .await;
    assert_eq!(reply.assert_status(200)["total"], 3);
}

/// Each projection table's persistence, and each of its indexes' definition and constraint.
async fn table_shapes(app: &TestApp) -> Vec<(String, String, String, Option<String>)> {
    let tables: Vec<&str> = projections::all()
        .iter()
        .flat_map(|p| p.tables().iter().copied())
        .collect();
    sqlx::query_as(
        "SELECT t.relname::text, t.relpersistence::text, pg_get_indexdef(x.indexrelid),
                pg_get_constraintdef(c.oid)
           FROM pg_class t
           JOIN pg_index x ON x.indrelid = t.oid
           LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = t.oid
          WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1)
          ORDER BY 1, 3",
    )
    .bind(&tables)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// A replay's writes are handed to another connection while it is fed on (`Replay::hand_over`).
/// Here every reservation is handed over on its own, and each write stays uncommitted while
/// the next event is fed, as when the writer is slower than the folding: the confirmations,
/// payments, cancellations and expiries of reservations in flight must be read from what was
/// handed over, since the table does not show them yet. The copies must then equal the live
/// tables.
#[tokio::test]
async fn a_replay_fed_while_its_writes_are_uncommitted_gives_the_same_rows() {
    let (app, _, _) = populated().await;
    let (home,): (String,) = sqlx::query_as("SELECT current_schema()")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let scratch = format!("held_{}", &Uuid::new_v4().simple().to_string()[..12]);
    let tables = ReservationsProjection.tables();
    sqlx::query(&format!("CREATE SCHEMA {scratch}"))
        .execute(&app.pool)
        .await
        .unwrap();
    for table in tables {
        sqlx::query(&format!(
            "CREATE TABLE {scratch}.{table} (LIKE {home}.{table} INCLUDING ALL)"
        ))
        .execute(&app.pool)
        .await
        .unwrap();
    }
    let mut feeding = app.pool.acquire().await.unwrap();
    let events =
        projections::projector::read_events(&mut feeding, Position::START, Position::END, 10_000)
            .await
            .unwrap();
    assert!(events.len() > 10, "{} events", events.len());

    let mut replay = ReservationsProjection.replay_holding(1);
    assert!(replay.feeds_only_read());
    let mut in_flight: Option<sqlx::Transaction<'static, sqlx::Postgres>> = None;
    let mut handed_over = 0;
    for event in &events {
        let mut tx = sqlx::Connection::begin(&mut *feeding).await.unwrap();
        set_search_path(&mut tx, &scratch).await.unwrap();
        replay
            .feed(&mut tx, std::slice::from_ref(event))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        if let Some(previous) = in_flight.take() {
            previous.commit().await.unwrap();
        }
        if replay.full() {
            let held = replay.hand_over().expect("the reservations hand over");
            let mut tx = app.pool.begin().await.unwrap();
            set_search_path(&mut tx, &scratch).await.unwrap();
            held.write(&mut tx).await.unwrap();
            in_flight = Some(tx);
            handed_over += 1;
        }
    }
    if let Some(last) = in_flight.take() {
        last.commit().await.unwrap();
    }
    let mut tx = app.pool.begin().await.unwrap();
    set_search_path(&mut tx, &scratch).await.unwrap();
    replay.flush(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert!(handed_over >= 3, "{handed_over} hand-overs");

    for table in tables {
        let (differing,): (i64,) = sqlx::query_as(&format!(
            "SELECT (SELECT count(*) FROM (TABLE {home}.{table} EXCEPT ALL TABLE {scratch}.{table}) a)
                  + (SELECT count(*) FROM (TABLE {scratch}.{table} EXCEPT ALL TABLE {home}.{table}) b)"
        ))
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(differing, 0, "{table}");
    }
}

/// Runs the real binary without blocking the runtime: the test's own service (projectors
/// included) runs on it, and a command like `audit verify` waits for the projectors' locks.
async fn cantine(database_url: &str, args: &[&str]) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_cantine"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run cantine");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).to_string(),
    )
}

#[tokio::test]
async fn audit_verify_passes_a_sound_log_and_catches_hand_edits() {
    let (app, _, _) = populated().await;
    let (ok, printed) = cantine(&app.database_url, &["audit", "verify"]).await;
    assert!(ok, "{printed}");
    assert!(printed.contains("differing rows: 0"), "{printed}");

    let (position,): (i64,) = sqlx::query_as(
        "SELECT global_position FROM events WHERE event_type = 'ReservationRequested' ORDER BY global_position LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE events SET payload = jsonb_set(payload, '{ReservationRequested,total}', '\"0.01\"')
          WHERE global_position = $1",
    )
    .bind(position)
    .execute(&app.pool)
    .await
    .unwrap();
    let (ok, printed) = cantine(&app.database_url, &["audit", "verify"]).await;
    assert!(!ok, "{printed}");
    assert!(
        printed.contains(&format!("changed events at positions [{position}]")),
        "{printed}"
    );
    assert!(
        !printed.contains("differing rows: 0"),
        "the replayed total differs from the live one: {printed}"
    );

    let (last,): (i64,) = sqlx::query_as("SELECT max(global_position) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM events WHERE global_position = $1")
        .bind(last)
        .execute(&app.pool)
        .await
        .unwrap();
    let (ok, printed) = cantine(&app.database_url, &["audit", "verify"]).await;
    assert!(!ok);
    assert!(
        printed.contains(&format!("removed events at positions [{last}]")),
        "{printed}"
    );
}

#[tokio::test]
async fn auditors_read_and_export_the_log() {
    let (app, _, family) = populated().await;
    let auditor = app.staff_token(Role::Auditor).await;
    let response = app
        .raw()
        .await
        .get(format!(
            "{}/api/v1/audit/events?after=0&limit=3",
            app.address
        ))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for field in [
        "position",
        "aggregate_type",
        "aggregate_id",
        "sequence",
        "event_type",
        "event_version",
        "payload",
        "metadata",
        "recorded_at",
    ] {
        assert!(lines[0].get(field).is_some(), "{field} missing");
    }
    assert_eq!(lines[0]["hash"].as_str().unwrap().len(), 64);
    let after = lines[2]["position"].as_i64().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/audit/events?after={after}&limit=10000"),
            &auditor,
        )
        .await;
    let rest_count = rest.body.as_str().unwrap().lines().count() as i64;
    assert_eq!(3 + rest_count, app.event_count().await);
    let aggregate = lines[0]["aggregate_id"].as_str().unwrap();
    let one = app
        .get(
            &format!("/api/v1/audit/events?aggregate_id={aggregate}"),
            &auditor,
        )
        .await;
    let sequences: Vec<i64> = one
        .body
        .as_str()
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["sequence"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(sequences, (1..=sequences.len() as i64).collect::<Vec<_>>());
    app.get("/api/v1/audit/events", &family.token)
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/audit/events?limit=0", &auditor)
        .await
        .assert_problem(400, "invalid_parameter");

    let file =
        std::env::temp_dir().join(format!("cantine-export-{}.jsonl", Uuid::new_v4().simple()));
    let (ok, printed) = cantine(
        &app.database_url,
        &["audit", "export", "--output", file.to_str().unwrap()],
    )
    .await;
    assert!(ok, "{printed}");
    let exported = std::fs::read_to_string(&file).unwrap();
    assert_eq!(exported.lines().count() as i64, app.event_count().await);
    let _ = std::fs::remove_file(file);

    let admin = app.staff_token(Role::Admin).await;
    let statuses = app.get("/api/v1/admin/projections", &admin).await;
    let statuses = statuses.assert_status(200).as_array().unwrap().clone();
    assert_eq!(statuses.len(), projections::all().len());
    assert!(
        statuses
            .iter()
            .all(|s| s["lag_ms"] == 0 && s["leader_here"] == true),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn kitchens_read_daily_headcounts_by_meal_option() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let martin = family_with_child(&app, &canteen.admin, "MARTIN", "Inès").await;
    let child = app
        .post(
            &format!("/api/v1/admin/families/{}/children", martin.id),
            &canteen.admin,
            json!({"first_name": "Léo", "last_name": "MARTIN", "meal_option": "vegetarian"}),
        )
        .await;
    let leo = child.assert_status(201)["id"].as_str().unwrap().to_string();
    let paid = book_and_confirm(&app, &canteen, &dupont, &["2017-01-23", "2017-01-24"]).await;
    pay(&app, &dupont, &[&paid]).await;
    let martin_leo = Family {
        child_id: leo,
        ..martin
    };
    book_and_confirm(&app, &canteen, &martin_leo, &["2017-01-23"]).await;

    let kitchen = app.staff_token(Role::Kitchen).await;
    let path = format!(
        "/api/v1/restaurants/{}/headcounts?from=2017-01-23&to=2017-01-25",
        canteen.restaurant_id
    );
    let reply = app.get(&path, &kitchen).await;
    let days = reply.assert_status(200).as_array().unwrap().clone();
    assert_eq!(
        days.len(),
        2,
        "Monday and Tuesday; Wednesday is closed: {days:?}"
    );
    assert_eq!(days[0]["date"], "2017-01-23");
    assert_eq!(days[0]["service"], "REPAS");
    assert_eq!(days[0]["booked"], 1);
    assert_eq!(days[0]["awaiting_payment"], 1);
    assert_eq!(days[0]["capacity"], 120);
    assert_eq!(
        days[0]["by_meal_option"],
        json!({"no_pork": 0, "standard": 1, "vegetarian": 0})
    );
    assert_eq!(days[0]["awaiting_by_meal_option"]["vegetarian"], 1);
    assert_eq!(days[1]["booked"], 1);
    assert_eq!(days[1]["awaiting_payment"], 0);

    let csv = app
        .raw()
        .await
        .get(format!("{}{}", app.address, path))
        .bearer_auth(&kitchen)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "date,service,booked,awaiting_payment,capacity,standard,vegetarian,no_pork"
    );
    assert_eq!(lines[1], "2017-01-23,REPAS,1,1,120,1,0,0");

    // The unpaid hold expires: its place is no longer counted.
    app.advance_clock(&canteen.admin, 61).await;
    eventually("the hold leaves the headcount", || async {
        app.get(&path, &kitchen).await.body[0]["awaiting_payment"] == 0
    })
    .await;
    app.get(&path, &dupont.token)
        .await
        .assert_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/restaurants/{}/headcounts", Uuid::new_v4()),
        &kitchen,
    )
    .await
    .assert_problem(404, "not_found");
    app.get(
        &format!(
            "/api/v1/restaurants/{}/headcounts?from=2017-01-23&to=2017-01-01",
            canteen.restaurant_id
        ),
        &kitchen,
    )
    .await
    .assert_problem(400, "invalid_parameter");
}

#[tokio::test]
async fn the_log_is_read_in_numeric_transaction_order() {
    let app = spawn_app().await;
    // As text, "10" sorts before "9": the reader must compare transaction ids as numbers.
    for (xid, id) in [(9, "a"), (10, "b"), (100, "c")] {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, transaction_id)
             VALUES ('Test', $1, 1, 'Tested', '1.0', '{}', '{}', $2::text::xid8)",
        )
        .bind(id)
        .bind(xid.to_string())
        .execute(&app.pool)
        .await
        .unwrap();
    }
    let mut conn = app.pool.acquire().await.unwrap();
    let events =
        cantine::projections::projector::read_events(&mut conn, Position::START, Position::END, 10)
            .await
            .unwrap();
    let order: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
    assert_eq!(order, ["a", "b", "c"]);
    let after_nine = cantine::projections::projector::read_events(
        &mut conn,
        events[0].position,
        Position::END,
        10,
    )
    .await
    .unwrap();
    assert_eq!(after_nine.len(), 2);
    let head = cantine::projections::projector::visible_head(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        head.transaction_id, 100,
        "the newest transaction, not the largest text: {head}"
    );
}

/// The calendar's day status has two spellings: the projection's (`day_status::of`, which
/// decides the headcounts) and SQL's `day_status()` (what every reader of the day arrays
/// uses). They must agree for every reservation status, cancelled or not.
#[tokio::test]
async fn a_day_status_is_the_same_in_the_projection_and_in_sql() {
    use cantine::domain::reservation::ReservationStatus::{self, *};
    use cantine::projections::reservations::day_status;

    let app = spawn_app().await;
    let every: [ReservationStatus; 6] = [
        Requested,
        AwaitingPayment,
        Paid,
        Confirmed,
        Expired,
        Cancelled,
    ];
    // A new status does not compile here until it is listed above.
    for status in every {
        match status {
            Requested | AwaitingPayment | Paid | Confirmed | Expired | Cancelled => {}
        }
    }
    for status in every {
        for cancelled in [false, true] {
            let (in_sql,): (String,) = sqlx::query_as("SELECT day_status($1, $2)")
                .bind(cancelled)
                .bind(status.as_str())
                .fetch_one(&app.pool)
                .await
                .unwrap();
            assert_eq!(
                in_sql,
                day_status::of(cancelled, status.as_str()),
                "{status:?}, cancelled: {cancelled}"
            );
        }
    }
    assert_eq!(day_status::of(false, Paid.as_str()), day_status::BOOKED);
    assert_eq!(day_status::of(true, Paid.as_str()), day_status::CANCELLED);
}
