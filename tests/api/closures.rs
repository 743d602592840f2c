//! Closures edited after a period is created: new bookings on the closed days are refused, meals
//! already held on them stay booked and are listed for staff to decide.

use serde_json::{json, Value};

use crate::helpers::*;

fn closures_path(canteen: &Canteen) -> String {
    format!("/api/v1/admin/periods/{}/closures", canteen.period_id)
}

fn guide_closures() -> Vec<Value> {
    vec![
        json!({"from": "2016-12-17", "to": "2017-01-02", "label": "Noël"}),
        json!({"from": "2017-02-18", "to": "2017-03-05", "label": "Hiver"}),
    ]
}

async fn calendar_status(app: &TestApp, canteen: &Canteen, family: &Family, day: &str) -> String {
    let calendar = app
        .get(
            &format!(
                "/api/v1/children/{}/calendar?period_id={}&month={}",
                family.child_id,
                canteen.period_id,
                &day[..7]
            ),
            &family.token,
        )
        .await;
    calendar.assert_status(200)["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == day)
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn closures_replaced_refuse_new_bookings_and_list_booked_days() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let booked = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let other = family_with_child(&app, &canteen.admin, "MARTIN", "Inès").await;
    let id = book_and_confirm(&app, &canteen, &booked, &["2017-02-06", "2017-02-07"]).await;
    pay(&app, &booked, &[&id]).await;
    // Held but not yet confirmed: it counts too.
    app.post(
        "/api/v1/reservations",
        &other.token,
        json!({"child_id": other.child_id, "period_id": canteen.period_id, "days": ["2017-02-10"]}),
    )
    .await
    .assert_status(201);
    assert_eq!(
        calendar_status(&app, &canteen, &other, "2017-02-09").await,
        "available"
    );

    let mut closures = guide_closures();
    closures.push(json!({"from": "2017-02-06", "to": "2017-02-10", "label": "Travaux"}));
    let reply = app
        .put(
            &closures_path(&canteen),
            &canteen.admin,
            json!({"closures": closures, "public_holidays": true}),
        )
        .await;
    let reply = reply.assert_status(200);
    assert_eq!(
        reply["booked_days_now_closed"],
        json!(["2017-02-06", "2017-02-07", "2017-02-10"])
    );
    let labels: Vec<&str> = reply["closures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.starts_with(&["Noël", "Hiver", "Travaux"]),
        "{labels:?}"
    );
    assert!(labels.contains(&"Lundi de Pâques"), "{labels:?}");

    // New bookings: refused on the closed days, public holidays included.
    assert_eq!(
        calendar_status(&app, &canteen, &other, "2017-02-09").await,
        "closed"
    );
    for day in ["2017-02-09", "2017-04-17"] {
        app.post(
            "/api/v1/reservations",
            &other.token,
            json!({"child_id": other.child_id, "period_id": canteen.period_id, "days": [day]}),
        )
        .await
        .assert_problem(422, "closed_day");
    }
    // Meals already paid stay booked: staff decide.
    assert_eq!(
        calendar_status(&app, &canteen, &booked, "2017-02-06").await,
        "booked"
    );
    let detail = app
        .get(&format!("/api/v1/reservations/{id}"), &booked.token)
        .await;
    assert_eq!(detail.assert_status(200)["status"], "paid");

    // Without the works week, the days open again and nothing is listed.
    let reply = app
        .put(
            &closures_path(&canteen),
            &canteen.admin,
            json!({"closures": guide_closures()}),
        )
        .await;
    let reply = reply.assert_status(200);
    assert_eq!(reply["booked_days_now_closed"], json!([]));
    assert_eq!(reply["closures"], json!(guide_closures()));
    assert_eq!(
        calendar_status(&app, &canteen, &other, "2017-02-09").await,
        "available"
    );
    app.post(
        "/api/v1/reservations",
        &other.token,
        json!({"child_id": other.child_id, "period_id": canteen.period_id, "days": ["2017-04-17"]}),
    )
    .await
    .assert_status(201);
}

#[tokio::test]
async fn closures_refused_change_nothing() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let backwards =
        json!({"closures": [{"from": "2017-02-10", "to": "2017-02-06", "label": "Travaux"}]});
    app.put(&closures_path(&canteen), &canteen.admin, backwards)
        .await
        .assert_problem(422, "invalid_period");
    app.put(
        "/api/v1/admin/periods/00000000-0000-0000-0000-000000000000/closures",
        &canteen.admin,
        json!({"closures": []}),
    )
    .await
    .assert_problem(404, "not_found");
    let (closures,): (Value,) =
        sqlx::query_as("SELECT rules->'closures' FROM periods WHERE id = $1::uuid")
            .bind(&canteen.period_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(closures, json!(guide_closures()));
}
