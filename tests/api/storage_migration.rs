//! Migrations 0036 and 0037 (places, held days and headcounts folded into a row per month, per
//! reservation and per child), and 0040 (a reservation's one price kept once), on a database
//! the earlier code filled: `tests/data/before_0036_folded_places.sql`, a dump of a benchmark
//! run made before the change. Every place, held day and price is still there, the log still
//! verifies, nothing needs repair, and bookings go on under the same rules.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::helpers::*;

type PlaceRow = (Uuid, String, NaiveDate, i32, i32);
type HeldRow = (Uuid, Uuid, Uuid, String, NaiveDate);
type HeadcountRow = (Uuid, Uuid, NaiveDate, String, String, i32, i32);

const PLACES: &str = "SELECT restaurant_id, service, date, capacity, taken FROM places
                       ORDER BY restaurant_id, service, date";
const HEADCOUNTS_BEFORE: &str =
    "SELECT restaurant_id, period_id, date, service, meal_option, booked, awaiting_payment
       FROM headcount_view WHERE booked <> 0 OR awaiting_payment <> 0
      ORDER BY restaurant_id, date, service, meal_option, period_id";
const HEADCOUNTS_AFTER: &str =
    "SELECT h.restaurant_id, h.period_id, (h.month + (u.i - 1)::int) AS date, h.service,
            h.meal_option, u.booked, u.awaiting_payment
       FROM headcount_months h,
            unnest(h.booked, h.awaiting_payment) WITH ORDINALITY AS u(booked, awaiting_payment, i)
      WHERE u.booked <> 0 OR u.awaiting_payment <> 0
      ORDER BY 1, 3, 4, 5, 2";
type PricesRow = (Uuid, Vec<rust_decimal::Decimal>);
const PRICES_BEFORE: &str = "SELECT id, unit_prices FROM reservation_view ORDER BY id";
const PRICES_AFTER: &str =
    "SELECT id, coalesce(unit_prices, array_fill(unit_price, ARRAY[cardinality(dates)]))
       FROM reservation_view ORDER BY id";
const HELD: &str = "SELECT reservation_id, child_id, restaurant_id, service, date FROM held_days
                     ORDER BY reservation_id, date";

/// The benchmark's clock started on 1 July 2025 and bookings open on that day.
fn after_the_run() -> DateTime<Utc> {
    "2025-07-02T08:00:00Z".parse().unwrap()
}

#[tokio::test]
async fn a_database_filled_before_the_folded_places_keeps_its_places_and_bookings_go_on() {
    let url = empty_database().await;
    let mut conn = PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(include_str!("../data/before_0036_folded_places.sql"))
        .execute(&mut conn)
        .await
        .expect("restore the dump");
    // The dump sets an empty search path for its own statements.
    conn.close().await.unwrap();
    // As `cantine restore` does: the log's transaction ids come from another cluster.
    cantine::db::backup::renumber_transactions(&url)
        .await
        .unwrap();
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let (applied,): (i64,) = sqlx::query_as("SELECT max(version) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(applied, 35, "the dump predates the folding");
    let places_before: Vec<PlaceRow> = sqlx::query_as(PLACES).fetch_all(&mut conn).await.unwrap();
    let held_before: Vec<HeldRow> = sqlx::query_as(HELD).fetch_all(&mut conn).await.unwrap();
    let headcounts_before: Vec<HeadcountRow> = sqlx::query_as(HEADCOUNTS_BEFORE)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let prices_before: Vec<PricesRow> = sqlx::query_as(PRICES_BEFORE)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    assert!(places_before.len() > 500, "{}", places_before.len());
    assert!(held_before.len() > 5_000, "{}", held_before.len());

    let pool = cantine::db::connect(&url, 4).await.unwrap();
    cantine::db::migrate(&pool)
        .await
        .expect("migrate the old shape");

    // The same days, read through the views, as the old tables had them.
    let places_after: Vec<PlaceRow> = sqlx::query_as(PLACES).fetch_all(&pool).await.unwrap();
    let held_after: Vec<HeldRow> = sqlx::query_as(HELD).fetch_all(&pool).await.unwrap();
    assert!(places_after == places_before, "the places differ");
    assert!(held_after == held_before, "the held days differ");
    let headcounts_after: Vec<HeadcountRow> = sqlx::query_as(HEADCOUNTS_AFTER)
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(
        headcounts_before.len() > 1_000,
        "{}",
        headcounts_before.len()
    );
    assert!(
        headcounts_after == headcounts_before,
        "the headcounts differ"
    );
    // Every day's price as it was, a reservation's one price kept once (migration 0040).
    let prices_after: Vec<PricesRow> = sqlx::query_as(PRICES_AFTER).fetch_all(&pool).await.unwrap();
    assert!(prices_after == prices_before, "the prices differ");
    let (kept_once, each): (i64, i64) =
        sqlx::query_as("SELECT count(unit_price), count(unit_prices) FROM reservation_view")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (kept_once, each),
        (prices_before.len() as i64, 0),
        "every reservation of the run has one price"
    );
    // Folded: a row per month, per reservation and per child's service.
    let (months, spans, meals, reservations, children): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM place_months), (SELECT count(*) FROM held_spans),
                    (SELECT count(*) FROM child_meals),
                    (SELECT count(DISTINCT reservation_id) FROM held_days),
                    (SELECT count(DISTINCT (child_id, service)) FROM held_days)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        months * 10 < places_before.len() as i64,
        "{months} month rows"
    );
    assert_eq!(spans, reservations);
    assert_eq!(meals, children);

    // The converted rows agree with the log: nothing to repair, and the audit finds nothing.
    assert_eq!(
        cantine::app::jobs::reconciliation::reconcile(&pool)
            .await
            .unwrap(),
        Default::default()
    );
    let audit = tokio::process::Command::new(env!("CARGO_BIN_EXE_cantine"))
        .args(["audit", "verify"])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&audit.stdout);
    assert!(audit.status.success(), "{printed}");
    assert!(printed.contains("differing rows: 0"), "{printed}");

    // Bookings go on, under the same rules: a family of the old run asks for a day its child's
    // restaurant has no place left on (every hold on it paid, so no expiry frees one).
    let (login, child_id, period_id, restaurant_id, full, reservation, held): (
        String,
        Uuid,
        Uuid,
        Uuid,
        NaiveDate,
        Uuid,
        NaiveDate,
    ) =
        sqlx::query_as(
            "WITH full_day AS (
                SELECT p.restaurant_id, p.service, p.date FROM places p
                 WHERE p.taken = p.capacity
                   AND NOT EXISTS (SELECT FROM held_days h JOIN reservation_view r ON r.id = h.reservation_id
                                    WHERE h.restaurant_id = p.restaurant_id AND h.date = p.date
                                      AND r.status <> 'paid')
                 ORDER BY p.date LIMIT 1)
             SELECT u.login, r.child_id, r.period_id, r.restaurant_id, f.date, r.id,
                    (SELECT min(d) FROM unnest(r.dates) AS d WHERE d > f.date)
               FROM full_day f
               JOIN reservation_view r ON r.restaurant_id = f.restaurant_id
               JOIN users u ON u.family_id = r.family_id
              WHERE NOT EXISTS (SELECT FROM held_days h WHERE h.child_id = r.child_id AND h.date = f.date)
              ORDER BY r.child_id
              LIMIT 1",
        )
        .fetch_one(&pool)
        .await
        .expect("a child of the restaurant not booked on a day it has full");
    let day_taken = |day: NaiveDate| {
        let pool = pool.clone();
        async move {
            let (taken,): (i32,) =
                sqlx::query_as("SELECT taken FROM places WHERE restaurant_id = $1 AND date = $2")
                    .bind(restaurant_id)
                    .bind(day)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            taken
        }
    };
    let app = spawn_app_on(url.clone(), after_the_run()).await;
    let token = app.token(&login, "bench-family-password").await;
    let full_before = day_taken(full).await;
    app.post(
        "/api/v1/reservations",
        &token,
        json!({"child_id": child_id, "period_id": period_id, "days": [full]}),
    )
    .await
    .assert_problem(422, "day_full");
    assert_eq!(day_taken(full).await, full_before, "nothing taken");
    // One of its paid days given back, then asked for again: the place goes and comes back.
    let held_before = day_taken(held).await;
    app.post(
        &format!("/api/v1/reservations/{reservation}/cancel"),
        &token,
        json!({"days": [held]}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        day_taken(held).await,
        held_before - 1,
        "the place is given back"
    );
    let reply = app
        .post(
            "/api/v1/reservations",
            &token,
            json!({"child_id": child_id, "period_id": period_id, "days": [held]}),
        )
        .await;
    let id = reply.assert_status(201)["id"].as_str().unwrap().to_string();
    let (rows,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM held_days WHERE reservation_id = $1::uuid AND date = $2",
    )
    .bind(&id)
    .bind(held)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(rows, 1, "the new reservation holds the day");
    assert_eq!(
        day_taken(held).await,
        held_before,
        "the place is taken again"
    );
    // The same child twice on one day: refused, the child's meal is held.
    app.post(
        "/api/v1/reservations",
        &token,
        json!({"child_id": child_id, "period_id": period_id, "days": [held]}),
    )
    .await
    .assert_problem(422, "already_booked");
}
