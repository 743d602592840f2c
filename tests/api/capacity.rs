//! Capacity and booking rules over HTTP: never a place sold twice, one meal per child, bulk
//! choices answered day by day.

use cantine::domain::account::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// `n` more children for the family, straight into the reference table (setup, not under test).
async fn children(app: &TestApp, family_id: &str, n: usize) -> Vec<String> {
    let rows: Vec<(Uuid,)> = sqlx::query_as(
        "INSERT INTO children (id, family_id, first_name, last_name, meal_option)
         SELECT gen_random_uuid(), $1, 'Enfant ' || i, 'NOMBREUX', 'standard' FROM generate_series(1, $2) AS i
         RETURNING id",
    )
    .bind(Uuid::parse_str(family_id).unwrap())
    .bind(n as i32)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.0.to_string()).collect()
}

async fn headcount(app: &TestApp, canteen: &Canteen, day: &str) -> Value {
    let kitchen = app.staff_token(Role::Kitchen).await;
    let path = format!(
        "/api/v1/restaurants/{}/headcounts?from={day}&to={day}",
        canteen.restaurant_id
    );
    app.get(&path, &kitchen).await.assert_status(200)[0].clone()
}

async fn taken(app: &TestApp, day: &str) -> i32 {
    let row: Option<(i32,)> = sqlx::query_as("SELECT taken FROM places WHERE date = $1::date")
        .bind(day)
        .fetch_optional(&app.pool)
        .await
        .unwrap();
    row.map(|r| r.0).unwrap_or(0)
}

#[tokio::test]
async fn three_hundred_clients_race_for_the_last_ten_places() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "NOMBREUX", "Premier").await;
    app.put(
        &format!("/api/v1/admin/periods/{}/capacity", canteen.period_id),
        &canteen.admin,
        json!({"date": "2017-01-23", "capacity": 10}),
    )
    .await
    .assert_status(200);
    let kids = children(&app, &family.id, 300).await;
    let replies = futures::future::join_all(kids.iter().map(|child| {
        app.post(
            "/api/v1/reservations",
            &family.token,
            json!({"child_id": child, "period_id": canteen.period_id, "days": ["2017-01-23"]}),
        )
    }))
    .await;
    let won = replies.iter().filter(|r| r.status == 201).count();
    let full = replies
        .iter()
        .filter(|r| {
            r.status == 422
                && r.body["code"] == "day_full"
                && r.body["days"] == json!(["2017-01-23"])
        })
        .count();
    assert_eq!(
        (won, full),
        (10, 290),
        "{:?}",
        replies
            .iter()
            .find(|r| r.status != 201 && r.body["code"] != "day_full")
            .map(|r| &r.body)
    );
    assert_eq!(taken(&app, "2017-01-23").await, 10);
    let count = headcount(&app, &canteen, "2017-01-23").await;
    assert_eq!(
        count["booked"].as_i64().unwrap() + count["awaiting_payment"].as_i64().unwrap(),
        10
    );
    let calendar = app
        .get(
            &format!(
                "/api/v1/children/{}/calendar?period_id={}&month=2017-01",
                family.child_id, canteen.period_id
            ),
            &family.token,
        )
        .await;
    let day = calendar.body["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == "2017-01-23")
        .unwrap()
        .clone();
    assert_eq!(day["status"], "full");

    // The winners never confirm: an hour later their holds expire and the day is free again.
    app.advance_clock(&canteen.admin, 61).await;
    eventually("the holds expire", || async {
        taken(&app, "2017-01-23").await == 0
    })
    .await;
    // The projection follows the log (behind the oldest transaction open on the server).
    eventually("the headcount follows", || async {
        let count = headcount(&app, &canteen, "2017-01-23").await;
        (count["booked"].clone(), count["awaiting_payment"].clone()) == (json!(0), json!(0))
    })
    .await;
    app.post(
        "/api/v1/reservations",
        &family.token,
        json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": ["2017-01-23"]}),
    )
    .await
    .assert_status(201);
}

/// A request decides from the empty aggregate without reading the log (its id is new): were the
/// id already taken, the append must refuse, leaving the first reservation and the places as
/// they were.
#[tokio::test]
async fn a_new_reservation_whose_id_is_taken_ends_as_a_conflict_not_a_second_history() {
    use cantine::domain::reservation::{RequestedDays, ReservationCommand};
    use cantine::store::commands::{CommandError, CommandMeta};

    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let body = json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": ["2017-01-23"]});
    let first = app.post("/api/v1/reservations", &family.token, body).await;
    let id: Uuid = first.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // Another day for the same child under the taken id: nothing else would refuse it.
    let second_request = || ReservationCommand::Request {
        reservation_id: id,
        family_id: family.id.parse().unwrap(),
        child_id: family.child_id.parse().unwrap(),
        period_id: canteen.period_id.parse().unwrap(),
        days: RequestedDays::Explicit(vec!["2017-01-24".parse().unwrap()]),
        partial: false,
    };
    let again = app
        .state
        .commands
        .execute_new(id, second_request(), &CommandMeta::system("reused-id"))
        .await;
    assert!(
        matches!(again, Err(CommandError::Conflict)),
        "{}",
        match &again {
            Ok(_) => "accepted".to_string(),
            Err(e) => e.to_string(),
        }
    );
    let (events,): (i64,) = sqlx::query_as("SELECT count(*) FROM events WHERE aggregate_id = $1")
        .bind(id.to_string())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(events, 1);
    assert_eq!(taken(&app, "2017-01-23").await, 1);
    assert_eq!(taken(&app, "2017-01-24").await, 0);
    // The same command through the door that reads the log first is refused as it should be.
    let refused = app
        .state
        .commands
        .execute(id, second_request(), &CommandMeta::system("reused-id"))
        .await;
    assert!(matches!(refused, Err(CommandError::Refused(_))));
}

#[tokio::test]
async fn a_child_booked_twice_at_once_gets_one_meal() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let body = json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": ["2017-01-23", "2017-01-24"]});
    let other = json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": ["2017-01-24", "2017-01-26"]});
    let (a, b) = tokio::join!(
        app.post("/api/v1/reservations", &family.token, body),
        app.post("/api/v1/reservations", &family.token, other)
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 422], "{} / {}", a.body, b.body);
    let refused = if a.status == 422 { &a } else { &b };
    assert_eq!(refused.body["code"], "already_booked");
    assert_eq!(refused.body["days"], json!(["2017-01-24"]));
    let (meals,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM held_days WHERE date = '2017-01-24'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(meals, 1);
    assert_eq!(taken(&app, "2017-01-24").await, 1);
    // Partial: the same days again give only what is new.
    let reply = app
        .post(
            "/api/v1/reservations",
            &family.token,
            json!({"child_id": family.child_id, "period_id": canteen.period_id,
                   "days": ["2017-01-23", "2017-01-24", "2017-01-26"], "partial": true}),
        )
        .await;
    let reply = reply.assert_status(201);
    let outcomes: Vec<(String, String)> = reply["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["date"].as_str().unwrap().into(),
                o["outcome"].as_str().unwrap().into(),
            )
        })
        .collect();
    let first_won = a.status == 201;
    let expected_26 = if first_won {
        "booked"
    } else {
        "already_booked"
    };
    let expected_23 = if first_won {
        "already_booked"
    } else {
        "booked"
    };
    assert_eq!(
        outcomes,
        vec![
            ("2017-01-23".to_string(), expected_23.to_string()),
            ("2017-01-24".to_string(), "already_booked".to_string()),
            ("2017-01-26".to_string(), expected_26.to_string()),
        ]
    );
}

async fn carcassonne(app: &TestApp, admin: &str, extra: Value) -> Canteen {
    let restaurant = app
        .post(
            "/api/v1/admin/restaurants",
            admin,
            json!({"name": "Jean Jaurès", "capacity": 150}),
        )
        .await;
    let restaurant_id = restaurant.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut period = json!({
        "restaurant_id": restaurant_id,
        "activity": "RESTAURATION SCOLAIRE",
        "label": "Inscription cantine 2025-2026",
        "service": {"label": "DÉJEUNER", "start": "11:45", "end": "13:30"},
        "from": "2025-09-01", "to": "2026-07-03",
        "opening_days": ["mon", "tue", "thu", "fri"],
        "closures": [{"from": "2025-10-18", "to": "2025-11-02", "label": "Toussaint"}],
        "public_holidays": true,
        "booking_cutoff": {"kind": "days_before", "days": 2, "time": "10:00"},
        "cancellation_cutoff": {"kind": "days_before", "days": 1, "time": "10:00"},
        "bookings_open_at": "2025-07-15T08:00:00",
        "payment": {"mode": "postpaid"},
        "unit_price": "4.97"
    });
    for (k, v) in extra.as_object().unwrap() {
        period[k] = v.clone();
    }
    let period_id = app
        .post("/api/v1/admin/periods", admin, period)
        .await
        .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    Canteen {
        admin: admin.to_string(),
        restaurant_id,
        period_id,
    }
}

#[tokio::test]
async fn the_second_guide_books_the_year_in_bulk_from_opening_day() {
    // 14 July 2025, the day before bookings open.
    let app = spawn_app_at("2025-07-14T08:00:00Z".parse().unwrap()).await;
    let admin = app.staff_token(Role::Admin).await;
    let canteen = carcassonne(&app, &admin, json!({})).await;
    let family = family_with_child(&app, &admin, "GARCIA", "Emma").await;
    let year = json!({"child_id": family.child_id, "period_id": canteen.period_id, "selection": {"kind": "whole_period"}});
    let early = app
        .post("/api/v1/reservations", &family.token, year.clone())
        .await;
    early.assert_problem(422, "no_bookable_day");
    assert!(early.body["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["outcome"] != "booked"));
    let establishments = app.get("/api/v1/establishments", &family.token).await;
    let listed = &establishments.body[0]["periods"][0];
    assert_eq!(
        listed["booking_rule"],
        "Vous devez réserver au plus tard 2 jours avant le repas, avant 10:00"
    );
    assert_eq!(listed["bookings_open_at"], "2025-07-15T08:00:00");
    assert_eq!(
        listed["cancellation_rule"],
        "Vous pouvez annuler jusqu'à 1 jour avant le repas, 10:00"
    );

    // Opening day: "+ tous les jours de l'année" (a new day, a new session).
    app.advance_clock(&admin, 24 * 60).await;
    let token = family_token_of(&app).await;
    let reply = app.post("/api/v1/reservations", &token, year).await;
    let booked = reply.assert_status(201).clone();
    let outcomes = booked["outcomes"].as_array().unwrap();
    let count = |what: &str| outcomes.iter().filter(|o| o["outcome"] == what).count();
    assert!(count("booked") > 130, "{} booked", count("booked"));
    assert_eq!(
        booked["counts"]["booked"].as_u64().unwrap() as usize,
        count("booked")
    );
    assert_eq!(
        booked["counts"]["refused"].as_u64().unwrap() as usize,
        count("closed")
    );
    let closed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o["outcome"] == "closed")
        .map(|o| o["date"].as_str().unwrap())
        .collect();
    assert!(
        closed.contains(&"2025-11-11"),
        "Armistice is a public holiday: {closed:?}"
    );
    assert!(
        closed.contains(&"2025-10-20"),
        "Toussaint holidays: {closed:?}"
    );
    assert!(
        !outcomes.iter().any(|o| o["date"] == "2025-09-03"),
        "Wednesdays are not chosen by 'every day'"
    );
    let total: rust_decimal::Decimal = booked["total"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        total,
        rust_decimal::Decimal::from(count("booked") as u32) * rust_decimal_macros::dec!(4.97)
    );
}

#[tokio::test]
async fn the_second_guide_recap_two_days_at_4_97() {
    let app = spawn_app_at("2025-05-12T07:00:00Z".parse().unwrap()).await;
    let admin = app.staff_token(Role::Admin).await;
    let canteen = carcassonne(
        &app,
        &admin,
        json!({"from": "2024-09-02", "to": "2025-07-04", "closures": [], "bookings_open_at": "2024-07-15T08:00:00"}),
    )
    .await;
    let family = family_with_child(&app, &admin, "GARCIA", "Emma").await;
    let reply = app
        .post(
            "/api/v1/reservations",
            &family.token,
            json!({"child_id": family.child_id, "period_id": canteen.period_id,
                   "selection": {"kind": "weekdays", "weekdays": ["thu", "fri"], "from": "2025-05-15", "to": "2025-05-16"}}),
        )
        .await;
    let reply = reply.assert_status(201);
    assert_eq!(
        reply["counts"],
        json!({"booked": 2, "refused": 0, "cancelled": 0})
    );
    assert_eq!(
        reply["recap"],
        json!([
            "Réservation ajoutée : 15/05/2025 - Prix : 4,97 €",
            "Réservation ajoutée : 16/05/2025 - Prix : 4,97 €"
        ])
    );
    assert_eq!(reply["total"], "9.94");
}

#[tokio::test]
async fn admins_narrow_a_day_and_the_calendar_says_full() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let martin = family_with_child(&app, &canteen.admin, "MARTIN", "Inès").await;
    let path = format!("/api/v1/admin/periods/{}/capacity", canteen.period_id);
    app.put(
        &path,
        &canteen.admin,
        json!({"date": "2017-01-24", "capacity": 1}),
    )
    .await
    .assert_status(200);
    book_and_confirm(&app, &canteen, &dupont, &["2017-01-24"]).await;
    let refused = app
        .post(
            "/api/v1/reservations",
            &martin.token,
            json!({"child_id": martin.child_id, "period_id": canteen.period_id, "days": ["2017-01-24"]}),
        )
        .await;
    refused.assert_problem(422, "day_full");
    let calendar = app
        .get(
            &format!(
                "/api/v1/children/{}/calendar?period_id={}&month=2017-01",
                martin.child_id, canteen.period_id
            ),
            &martin.token,
        )
        .await;
    let days = calendar.body["days"].as_array().unwrap();
    let status = |date: &str| days.iter().find(|d| d["date"] == date).unwrap()["status"].clone();
    assert_eq!(status("2017-01-24"), "full");
    assert_eq!(status("2017-01-23"), "available");
    // Not below what is taken; the family is not bumped.
    app.put(
        &path,
        &canteen.admin,
        json!({"date": "2017-01-24", "capacity": 0}),
    )
    .await
    .assert_problem(409, "capacity_below_taken");
    app.put(
        &path,
        &canteen.admin,
        json!({"date": "2017-01-25", "capacity": 5}),
    )
    .await
    .assert_problem(422, "closed_day");
    app.put(
        &path,
        &dupont.token,
        json!({"date": "2017-01-24", "capacity": 5}),
    )
    .await
    .assert_problem(403, "forbidden");
    // Cancelling gives the place back at once.
    let mine = app.get("/api/v1/reservations", &dupont.token).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post_empty(
        &format!("/api/v1/reservations/{mine}/cancel"),
        &dupont.token,
    )
    .await
    .assert_status(200);
    app.post(
        "/api/v1/reservations",
        &martin.token,
        json!({"child_id": martin.child_id, "period_id": canteen.period_id, "days": ["2017-01-24"]}),
    )
    .await
    .assert_status(201);
}

#[tokio::test]
async fn reconciliation_repairs_places_that_drifted_from_the_log() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    assert_eq!(
        cantine::app::jobs::reconciliation::reconcile(&app.pool)
            .await
            .unwrap(),
        Default::default(),
        "nothing to repair"
    );
    // Behind the service's back: a counter bumped, a held day lost, a stray hold.
    sqlx::query("UPDATE place_months SET taken[23] = taken[23] + 3 WHERE month = '2017-01-01'")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE held_spans SET days = days - '{[2017-01-24,2017-01-25)}'")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO held_spans (reservation_id, child_id, restaurant_id, service, days)
         SELECT gen_random_uuid(), gen_random_uuid(), restaurant_id, service, '{[2017-01-26,2017-01-27)}'
           FROM held_spans LIMIT 1",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let repairs = cantine::app::jobs::reconciliation::reconcile(&app.pool)
        .await
        .unwrap();
    assert_eq!((repairs.released, repairs.restored), (1, 1));
    assert!(repairs.recounted >= 1);
    assert_eq!(taken(&app, "2017-01-23").await, 1);
    assert_eq!(taken(&app, "2017-01-24").await, 1);
    assert_eq!(taken(&app, "2017-01-26").await, 0);
    assert_eq!(
        cantine::app::jobs::reconciliation::reconcile(&app.pool)
            .await
            .unwrap(),
        Default::default()
    );
}

#[tokio::test]
async fn cancelling_paid_days_credits_the_family_in_the_log() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let id = book_and_confirm(&app, &canteen, &family, &["2017-01-23", "2017-01-24"]).await;
    pay(&app, &family, &[&id]).await;
    let reply = app
        .post(
            &format!("/api/v1/reservations/{id}/cancel"),
            &family.token,
            json!({"days": ["2017-01-24"]}),
        )
        .await;
    assert_eq!(reply.assert_status(200)["status"], "paid");
    let (credited,): (String,) = sqlx::query_as(
        "SELECT payload->'DaysCancelled'->>'credited' FROM events WHERE event_type = 'DaysCancelled'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(credited, "4.15");
    assert_eq!(taken(&app, "2017-01-24").await, 0);
}

/// One request of a child for these days.
async fn ask_for_days(
    app: &TestApp,
    family: &Family,
    canteen: &Canteen,
    child: &str,
    days: &[&str],
) -> Reply {
    app.post(
        "/api/v1/reservations",
        &family.token,
        json!({"child_id": child, "period_id": canteen.period_id, "days": days}),
    )
    .await
}

/// The places of three days, held by the family's children as the race left them: what the
/// counters say, and what the held days say.
async fn places_and_holds(app: &TestApp, days: &[&str]) -> Vec<(i32, i64)> {
    let mut found = Vec::new();
    for day in days {
        let (held,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM held_days WHERE date = $1::date")
                .bind(day)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        found.push((taken(app, day).await, held));
    }
    found
}

#[tokio::test]
async fn cancellations_expiries_and_bulk_requests_racing_on_the_same_days_never_overbook() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "NOMBREUX", "Premier").await;
    let days = ["2017-01-23", "2017-01-24", "2017-01-26"];
    for day in days {
        app.put(
            &format!("/api/v1/admin/periods/{}/capacity", canteen.period_id),
            &canteen.admin,
            json!({"date": day, "capacity": 6}),
        )
        .await
        .assert_status(200);
    }
    let kids = children(&app, &family.id, 36).await;
    let (holders, askers) = kids.split_at(6);
    // Six children take the three days: three will let their hold expire, three pay.
    let mut held = Vec::new();
    for child in holders {
        let reply = ask_for_days(&app, &family, &canteen, child, &days).await;
        let id = reply.assert_status(201)["id"].as_str().unwrap().to_string();
        app.post_empty(&format!("/api/v1/reservations/{id}/confirm"), &family.token)
            .await
            .assert_status(200);
        held.push(id);
    }
    let (expiring, paying) = held.split_at(3);
    let paying: Vec<&str> = paying.iter().map(String::as_str).collect();
    pay(&app, &family, &paying).await;
    assert_eq!(places_and_holds(&app, &days).await, vec![(6, 6); 3]);

    // At once: the unpaid holds expire, the paid ones give back the middle day, and thirty
    // children ask for the three days in one request each, in waves.
    let expire = app.advance_clock(&canteen.admin, 61);
    let cancel = futures::future::join_all(paying.iter().map(|id| {
        let (app, token) = (&app, &family.token);
        async move {
            app.post(
                &format!("/api/v1/reservations/{id}/cancel"),
                token,
                json!({"days": ["2017-01-24"]}),
            )
            .await
        }
    }));
    let ask = futures::future::join_all(askers.iter().enumerate().map(|(i, child)| {
        let (app, family, canteen) = (&app, &family, &canteen);
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(20 * (i as u64 % 10))).await;
            ask_for_days(app, family, canteen, child, &days).await
        }
    }));
    let ((), cancelled, asked) = tokio::join!(expire, cancel, ask);
    for reply in &cancelled {
        reply.assert_status(200);
    }
    let mut won = asked.iter().filter(|r| r.status == 201).count();
    for reply in asked.iter().filter(|r| r.status != 201) {
        reply.assert_problem(422, "day_full");
    }
    eventually("the unpaid holds expire", || async {
        expiring.len()
            == futures::future::join_all(expiring.iter().map(|id| {
                let (app, token) = (&app, &family.token);
                async move { app.get(&format!("/api/v1/reservations/{id}"), token).await }
            }))
            .await
            .iter()
            .filter(|r| r.body["status"] == "expired")
            .count()
    })
    .await;
    // Those who lost to the expiries ask again, one after the other, until the first day is
    // full: three places freed on it (the expired holds), so three children win in all.
    for child in askers {
        let reply = ask_for_days(&app, &family, &canteen, child, &days).await;
        match reply.status.as_u16() {
            201 => won += 1,
            _ => {
                let code = reply.body["code"].as_str().unwrap_or_default().to_string();
                assert!(
                    code == "day_full" || code == "already_booked",
                    "{}",
                    reply.body
                );
            }
        }
    }
    assert_eq!(won, 3, "as many winners as places freed on the first day");
    // Never over capacity, counters equal to the held days, and nothing for the
    // reconciliation to repair: the rows written with the events agree with the log.
    assert_eq!(
        places_and_holds(&app, &days).await,
        vec![(6, 6), (3, 3), (6, 6)],
        "the middle day lost its three paid meals"
    );
    all_fresh(&app).await;
    app.stop_jobs();
    assert_eq!(
        cantine::app::jobs::reconciliation::reconcile(&app.pool)
            .await
            .unwrap(),
        Default::default()
    );
}

/// Whether another transaction could lock these rows now (`FOR UPDATE NOWAIT`, rolled back).
async fn free_to_lock(app: &TestApp, sql: &str) -> bool {
    let mut probe = app.pool.begin().await.unwrap();
    let locked = sqlx::query(sql).execute(&mut *probe).await;
    probe.rollback().await.unwrap();
    match locked {
        Ok(_) => true,
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => false,
        Err(e) => panic!("{e}"),
    }
}

/// A release gives its months back in month order, as a request takes them, and the child's
/// meals after them: a release that locked the months in another order and a whole-year request
/// each held a month the other wanted, and PostgreSQL broke the deadlock only after its
/// `deadlock_timeout`, a one-second stall of every booking of the restaurant (seen in the
/// benchmark, `BENCHMARKS.md`, ninth round). With one of its months held elsewhere, a release
/// must wait for it holding none of the months after it, and not the child's meals.
#[tokio::test]
async fn a_release_waits_for_a_month_before_holding_a_later_one_or_the_meals() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "NOMBREUX", "Premier").await;
    let days = [
        "2017-01-23",
        "2017-02-06",
        "2017-03-13",
        "2017-04-03",
        "2017-05-15",
        "2017-06-12",
        "2017-07-03",
    ];
    let months = days.map(|day| format!("{}-01", &day[..7]));
    let kids = children(&app, &family.id, months.len()).await;
    let mut seen = Vec::new();
    for (i, (month, child)) in months.iter().zip(&kids).enumerate() {
        let reply = ask_for_days(&app, &family, &canteen, child, &days).await;
        let id = reply.assert_status(201)["id"].as_str().unwrap().to_string();
        if i == 0 {
            // Statistics as a busy database has them: the planner then visits the months in
            // the order of its hash of them, not in the order the table holds them.
            sqlx::query("ANALYZE place_months")
                .execute(&app.pool)
                .await
                .unwrap();
        }
        let later_months =
            format!("SELECT 1 FROM place_months WHERE month > '{month}' FOR UPDATE NOWAIT");
        let meals =
            format!("SELECT 1 FROM child_meals WHERE child_id = '{child}' FOR UPDATE NOWAIT");
        assert!(free_to_lock(&app, &later_months).await);
        assert!(free_to_lock(&app, &meals).await);

        // Another transaction holds the month, as a request for it would.
        let mut holder = app.pool.begin().await.unwrap();
        sqlx::query(&format!(
            "SELECT 1 FROM place_months WHERE month = '{month}' FOR UPDATE"
        ))
        .execute(&mut *holder)
        .await
        .unwrap();
        let cancel_path = format!("/api/v1/reservations/{id}/cancel");
        let cancel = app.post(&cancel_path, &family.token, json!({"days": days}));
        let watch = async {
            eventually("the release waits for the month held", || async {
                let (waiting,): (i64,) = sqlx::query_as(
                    "SELECT count(*) FROM pg_stat_activity
                      WHERE datname = current_database() AND wait_event_type = 'Lock'
                        AND query LIKE '%held_spans%'",
                )
                .fetch_one(&app.pool)
                .await
                .unwrap();
                waiting == 1
            })
            .await;
            let free = (
                free_to_lock(&app, &later_months).await,
                free_to_lock(&app, &meals).await,
            );
            holder.commit().await.unwrap();
            free
        };
        let (cancelled, (later_free, meals_free)) = tokio::join!(cancel, watch);
        cancelled.assert_status(200);
        seen.push((month.clone(), later_free, meals_free));
    }
    assert_eq!(
        seen,
        months.map(|m| (m, true, true)).to_vec(),
        "(month held elsewhere, months after it free, child's meals free) while the release waited"
    );
    assert_eq!(
        places_and_holds(&app, &days).await,
        vec![(0, 0); 7],
        "every day given back"
    );
}

/// The months' arithmetic that every append, release and headcount batch runs (migration 0041)
/// gives, entry by entry, what `unnest` gives: NULL where an entry is unknown, negatives kept,
/// a NULL month as 31 unknown entries. And it stays plain SQL, which the planner inlines into
/// those statements: a PL/pgSQL loop cost three times as much in every one of them.
#[tokio::test]
async fn a_months_arithmetic_is_entry_by_entry_and_inlined_sql() {
    let url = fresh_database().await;
    let pool = cantine::db::connect(&url, 1).await.unwrap();
    let (months, wrong): (i64, i64) = sqlx::query_as(
        "WITH months AS (
            SELECT CASE WHEN g % 50 = 0 THEN NULL ELSE array(
                       SELECT CASE WHEN random() < 0.2 THEN NULL
                                   ELSE (random() * 40 - 10 + g * 0)::int END
                         FROM generate_series(1, 31)) END AS a,
                   array(SELECT CASE WHEN random() < 0.2 THEN NULL
                                     ELSE (random() * 40 - 10 + g * 0)::int END
                           FROM generate_series(1, 31)) AS b
              FROM generate_series(1, 500) AS g)
         SELECT count(*),
                count(*) FILTER (WHERE
                    month_plus(a, b) IS DISTINCT FROM array(
                        SELECT x + y FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i) ORDER BY i)
                 OR month_minus(a, b) IS DISTINCT FROM array(
                        SELECT x - y FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i) ORDER BY i)
                 OR month_capacities(a, b) IS DISTINCT FROM array(
                        SELECT coalesce(x, y) FROM unnest(a, b) WITH ORDINALITY AS t(x, y, i)
                         ORDER BY i)
                 OR cardinality(month_plus(a, b)) <> 31)
           FROM months",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((months, wrong), (500, 0));
    let languages: Vec<(String, String)> = sqlx::query_as(
        "SELECT p.proname::text, l.lanname::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
          WHERE p.proname IN ('month_plus', 'month_minus', 'month_capacities') ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        languages,
        [
            ("month_capacities".to_string(), "sql".to_string()),
            ("month_minus".to_string(), "sql".to_string()),
            ("month_plus".to_string(), "sql".to_string()),
        ]
    );
    pool.close().await;
}

/// The request's held days and the child's meals are written from the server's text of the
/// days' `datemultirange`: it must be what the database's own `days_span` makes of the same days,
/// in any order, with repeats, across months and years, and for none.
#[tokio::test]
async fn a_requests_span_written_by_the_server_is_the_databases_days_span() {
    use cantine::store::append_alone::multirange_literal;
    use chrono::{Duration, NaiveDate};
    use rand::{rngs::StdRng, Rng, SeedableRng};

    let url = fresh_database().await;
    let pool = cantine::db::connect(&url, 1).await.unwrap();
    let mut rng = StdRng::seed_from_u64(21);
    let start = NaiveDate::from_ymd_opt(2025, 8, 20).unwrap();
    for case in 0..300 {
        let count = if case == 0 { 0 } else { rng.gen_range(1..=160) };
        let spread = rng.gen_range(1..=400);
        let days: Vec<NaiveDate> = (0..count)
            .map(|_| start + Duration::days(rng.gen_range(0..spread)))
            .collect();
        let (same, theirs): (bool, String) = sqlx::query_as(
            "SELECT $1::text::datemultirange = days_span($2::date[]), days_span($2::date[])::text",
        )
        .bind(multirange_literal(days.iter().copied()))
        .bind(&days)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(
            same,
            "{days:?}: {} against {theirs}",
            multirange_literal(days.iter().copied())
        );
        assert_eq!(multirange_literal(days.iter().copied()), theirs);
    }
    pool.close().await;
}
