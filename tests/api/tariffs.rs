//! Tariffs by family income bracket: each family pays its bracket's price of the list in effect
//! on each meal day, and a price, once booked, never moves.

use cantine::domain::account::Role;
use serde_json::{json, Value};

use crate::helpers::*;

fn bracket(up_to: Option<i64>, price: &str) -> Value {
    json!({"up_to": up_to, "unit_price": price})
}

/// The town's deliberation of the seeds: three brackets, 4.97 € at the top.
fn deliberation(effective_from: &str) -> Value {
    json!({
        "effective_from": effective_from,
        "brackets": [bracket(Some(500), "1.50"), bracket(Some(900), "3.00"), bracket(None, "4.97")]
    })
}

fn tariffs_path(canteen: &Canteen) -> String {
    format!("/api/v1/admin/periods/{}/tariffs", canteen.period_id)
}

async fn add_list(app: &TestApp, canteen: &Canteen, list: Value) {
    app.post(&tariffs_path(canteen), &canteen.admin, list)
        .await
        .assert_status(201);
}

async fn set_quotient(app: &TestApp, token: &str, family: &Family, quotient: Value) -> Reply {
    app.put(
        &format!("/api/v1/admin/families/{}/quotient", family.id),
        token,
        json!({"quotient": quotient}),
    )
    .await
}

async fn request(app: &TestApp, canteen: &Canteen, family: &Family, days: &[&str]) -> Value {
    app.post(
        "/api/v1/reservations",
        &family.token,
        json!({"child_id": family.child_id, "period_id": canteen.period_id, "days": days}),
    )
    .await
    .assert_status(201)
    .clone()
}

fn prices(reservation: &Value) -> Vec<&str> {
    reservation["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["unit_price"].as_str().unwrap())
        .collect()
}

/// The unit price the family reads on the establishments' page for the canteen's period.
async fn shown_price(app: &TestApp, canteen: &Canteen, family: &Family) -> String {
    let establishments = app.get("/api/v1/establishments", &family.token).await;
    establishments
        .assert_status(200)
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["periods"].as_array().unwrap())
        .find(|p| p["id"] == canteen.period_id.as_str())
        .unwrap()["unit_price"]
        .as_str()
        .unwrap()
        .to_string()
}

const GUIDE_DAYS: [&str; 4] = ["2017-01-23", "2017-01-24", "2017-01-27", "2017-01-31"];

#[tokio::test]
async fn tariffs_each_family_pays_its_brackets_price() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    add_list(&app, &canteen, deliberation("2017-01-01")).await;
    let finance = app.staff_token(Role::Finance).await;
    let modest = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let middle = family_with_child(&app, &canteen.admin, "MARTIN", "Inès").await;
    let unknown = family_with_child(&app, &canteen.admin, "DURAND", "Léo").await;
    let bound = family_with_child(&app, &canteen.admin, "PETIT", "Zoé").await;
    set_quotient(&app, &canteen.admin, &modest, json!(450))
        .await
        .assert_status(200);
    // Finance handles the families' papers too.
    let set = set_quotient(&app, &finance, &middle, json!(720)).await;
    assert_eq!(
        set.assert_status(200),
        &json!({"family_id": middle.id, "quotient": 720})
    );
    // Upper bounds are inclusive.
    set_quotient(&app, &canteen.admin, &bound, json!(500))
        .await
        .assert_status(200);

    let cases = [
        (&modest, "1.50", "6.00"),
        (&middle, "3.00", "12.00"),
        (&unknown, "4.97", "19.88"),
        (&bound, "1.50", "6.00"),
    ];
    for (family, price, total) in cases {
        assert_eq!(shown_price(&app, &canteen, family).await, price);
        let reservation = request(&app, &canteen, family, &GUIDE_DAYS).await;
        assert_eq!(prices(&reservation), [price; 4], "{reservation}");
        assert_eq!(reservation["total"], total);
    }
}

#[tokio::test]
async fn tariffs_an_unknown_quotient_pays_the_top_price() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    add_list(&app, &canteen, deliberation("2017-01-01")).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    set_quotient(&app, &canteen.admin, &family, json!(300))
        .await
        .assert_status(200);
    assert_eq!(shown_price(&app, &canteen, &family).await, "1.50");
    let account = app
        .get(
            &format!("/api/v1/admin/families/{}", family.id),
            &canteen.admin,
        )
        .await;
    assert_eq!(account.assert_status(200)["quotient_familial"], 300);
    // The family's papers have expired: staff forget the quotient.
    let cleared = set_quotient(&app, &canteen.admin, &family, Value::Null).await;
    assert_eq!(cleared.assert_status(200)["quotient"], Value::Null);
    assert_eq!(shown_price(&app, &canteen, &family).await, "4.97");
    let reservation = request(&app, &canteen, &family, &["2017-01-23"]).await;
    assert_eq!(prices(&reservation), ["4.97"]);
}

#[tokio::test]
async fn tariffs_a_reservation_across_a_new_list_gets_each_days_price() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    // Only from February: January keeps the period's own 4.15 €.
    add_list(&app, &canteen, deliberation("2017-02-01")).await;
    add_list(
        &app,
        &canteen,
        json!({"effective_from": "2017-02-03",
               "brackets": [bracket(Some(500), "1.60"), bracket(None, "5.10")]}),
    )
    .await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    set_quotient(&app, &canteen.admin, &family, json!(450))
        .await
        .assert_status(200);
    assert_eq!(shown_price(&app, &canteen, &family).await, "4.15");

    let days = ["2017-01-31", "2017-02-02", "2017-02-03", "2017-02-06"];
    let reservation = request(&app, &canteen, &family, &days).await;
    assert_eq!(prices(&reservation), ["4.15", "1.50", "1.60", "1.60"]);
    assert_eq!(reservation["total"], "8.85");
    let id = reservation["id"].as_str().unwrap();
    let detail = app
        .get(&format!("/api/v1/reservations/{id}"), &family.token)
        .await;
    let detail = detail.assert_status(200);
    assert_eq!(prices(detail), ["4.15", "1.50", "1.60", "1.60"]);
    assert_eq!(detail["total"], "8.85");

    let lists = app.get(&tariffs_path(&canteen), &canteen.admin).await;
    let lists = lists.assert_status(200);
    assert_eq!(lists.as_array().unwrap().len(), 2);
    assert_eq!(lists[0]["effective_from"], "2017-02-01");
    assert_eq!(
        lists[0]["brackets"],
        json!([
            bracket(Some(500), "1.50"),
            bracket(Some(900), "3.00"),
            bracket(None, "4.97")
        ])
    );
    assert_eq!(lists[1]["effective_from"], "2017-02-03");
}

#[tokio::test]
async fn tariffs_a_list_added_after_booking_changes_no_booked_price() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let booked = book_and_confirm(&app, &canteen, &family, &GUIDE_DAYS).await;

    // The new deliberation covers the booked days, and the family's quotient is now known.
    add_list(&app, &canteen, deliberation("2017-01-01")).await;
    set_quotient(&app, &canteen.admin, &family, json!(450))
        .await
        .assert_status(200);

    let cart = app.get("/api/v1/cart", &family.token).await;
    assert_eq!(cart.assert_status(200)["total"], "16.60");
    pay(&app, &family, &[&booked]).await;
    let detail = app
        .get(&format!("/api/v1/reservations/{booked}"), &family.token)
        .await;
    let detail = detail.assert_status(200);
    assert_eq!(prices(detail), ["4.15"; 4]);
    assert_eq!(detail["total"], "16.60");
    assert_eq!(detail["status"], "paid");
    let invoices = app.get("/api/v1/invoices", &family.token).await;
    let invoices = invoices.assert_status(200);
    assert_eq!(invoices[0]["total"], "16.60");
    assert_eq!(invoices[0]["lines"][0]["unit_price"], "4.15");

    // New bookings take the new list.
    let later = request(&app, &canteen, &family, &["2017-02-02"]).await;
    assert_eq!(prices(&later), ["1.50"]);
}

#[tokio::test]
async fn tariffs_malformed_or_duplicate_lists_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    add_list(&app, &canteen, deliberation("2017-01-01")).await;
    let path = tariffs_path(&canteen);
    let refused = |brackets: Value| json!({"effective_from": "2017-03-06", "brackets": brackets});
    let top = bracket(None, "4.97");
    let cases = [
        (json!([]), "at least one bracket"),
        (
            json!([bracket(Some(900), "3.00"), bracket(Some(500), "1.50"), top]),
            "strictly ascending",
        ),
        (
            json!([bracket(Some(500), "1.50"), bracket(Some(500), "3.00"), top]),
            "strictly ascending",
        ),
        (json!([bracket(Some(500), "1.50")]), "open top"),
        (json!([top, bracket(Some(500), "1.50")]), "open top"),
        (json!([bracket(Some(500), "-1.50"), top]), "non-negative"),
        (json!([bracket(Some(500), "1.505"), top]), "two decimals"),
        (json!([bracket(Some(-1), "1.50"), top]), "zero or more"),
    ];
    for (brackets, detail) in cases {
        let reply = app
            .post(&path, &canteen.admin, refused(brackets.clone()))
            .await;
        reply.assert_problem(422, "invalid_tariff");
        assert!(
            reply.body["detail"].as_str().unwrap().contains(detail),
            "{brackets}: {}",
            reply.body
        );
    }
    // Price lists are not edited: a change is a new list from a later date.
    app.post(&path, &canteen.admin, deliberation("2017-01-01"))
        .await
        .assert_problem(409, "tariff_exists");
    app.post(
        "/api/v1/admin/periods/00000000-0000-0000-0000-000000000000/tariffs",
        &canteen.admin,
        deliberation("2017-03-06"),
    )
    .await
    .assert_problem(404, "not_found");
    app.get(
        "/api/v1/admin/periods/00000000-0000-0000-0000-000000000000/tariffs",
        &canteen.admin,
    )
    .await
    .assert_problem(404, "not_found");

    let lists = app.get(&path, &canteen.admin).await;
    assert_eq!(lists.assert_status(200).as_array().unwrap().len(), 1);
    let (brackets,): (i64,) = sqlx::query_as("SELECT count(*) FROM tariff_brackets")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(brackets, 3);
}

#[tokio::test]
async fn tariffs_a_quotient_is_a_known_familys_whole_euros() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    set_quotient(&app, &canteen.admin, &family, json!(-1))
        .await
        .assert_problem(422, "invalid_quotient");
    let stranger = Family {
        id: "00000000-0000-0000-0000-000000000000".into(),
        token: String::new(),
        child_id: String::new(),
    };
    set_quotient(&app, &canteen.admin, &stranger, json!(450))
        .await
        .assert_problem(404, "not_found");
    let kitchen = app.staff_token(Role::Kitchen).await;
    set_quotient(&app, &kitchen, &family, json!(450))
        .await
        .assert_problem(403, "forbidden");
    let (quotient,): (Option<i32>,) =
        sqlx::query_as("SELECT quotient_familial FROM families WHERE id = $1::uuid")
            .bind(&family.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(quotient, None);
}
