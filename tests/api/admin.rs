//! Admin routes: reference data with its validation, refused with a stable code.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_creates_reference_data_and_refuses_bad_input() {
    let app = spawn_app().await;
    let admin = app.staff_token(cantine::domain::account::Role::Admin).await;
    let reply = app
        .post(
            "/api/v1/admin/restaurants",
            &admin,
            json!({"name": "  ", "capacity": 10}),
        )
        .await;
    reply.assert_problem(422, "empty_field");
    let reply = app
        .post(
            "/api/v1/admin/restaurants",
            &admin,
            json!({"name": "X", "capacity": -1}),
        )
        .await;
    reply.assert_problem(422, "invalid_capacity");
    let restaurant = app
        .post(
            "/api/v1/admin/restaurants",
            &admin,
            json!({"name": "Le Repausset", "capacity": 80}),
        )
        .await;
    let restaurant_id = restaurant.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut period = repausset_period(&restaurant_id);
    period["from"] = json!("2017-08-01");
    app.post("/api/v1/admin/periods", &admin, period)
        .await
        .assert_problem(422, "invalid_period");
    let mut period = repausset_period(&restaurant_id);
    period["unit_price"] = json!("4.155");
    app.post("/api/v1/admin/periods", &admin, period)
        .await
        .assert_problem(422, "invalid_period");
    let mut period = repausset_period(&restaurant_id);
    period["booking_cutoff"] =
        json!({"kind": "weekday_of_previous_week", "weekday": "tue", "time": "25:00"});
    app.post("/api/v1/admin/periods", &admin, period)
        .await
        .assert_problem(400, "malformed_body");
    let mut period = repausset_period(&restaurant_id);
    period["opening_days"] = json!(["monday"]);
    app.post("/api/v1/admin/periods", &admin, period)
        .await
        .assert_problem(400, "malformed_body");
    let period = repausset_period(&uuid::Uuid::new_v4().to_string());
    app.post("/api/v1/admin/periods", &admin, period)
        .await
        .assert_problem(404, "not_found");
    let mut period = repausset_period(&restaurant_id);
    period.as_object_mut().unwrap().remove("capacity");
    period["payment"] = json!({"mode": "prepaid"});
    let created = app.post("/api/v1/admin/periods", &admin, period).await;
    created.assert_status(201);

    let family = app
        .post(
            "/api/v1/admin/families",
            &admin,
            json!({"name": "DUPONT", "login": "dupont@example.fr", "password": "mot-de-passe"}),
        )
        .await;
    let family_id = family.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        "/api/v1/admin/families",
        &admin,
        json!({"name": "Autre", "login": "DUPONT@example.fr"}),
    )
    .await
    .assert_problem(409, "login_taken");
    app.post(
        "/api/v1/admin/families",
        &admin,
        json!({"name": "Court", "login": "court@example.fr", "password": "abc"}),
    )
    .await
    .assert_problem(422, "weak_password");
    app.post(
        &format!("/api/v1/admin/families/{family_id}/children"),
        &admin,
        json!({"first_name": "Hervé", "last_name": "DUPONT", "meal_option": "halal"}),
    )
    .await
    .assert_problem(422, "invalid_meal_option");
    app.post(
        &format!("/api/v1/admin/families/{}/children", uuid::Uuid::new_v4()),
        &admin,
        json!({"first_name": "Hervé", "last_name": "DUPONT"}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &format!("/api/v1/admin/families/{family_id}/children"),
        &admin,
        json!({"first_name": "Hervé", "last_name": "DUPONT", "meal_option": "vegetarian"}),
    )
    .await
    .assert_status(201);

    // A family without a password cannot log in yet (it will set one through the e-mail).
    app.post(
        "/api/v1/admin/families",
        &admin,
        json!({"name": "SANS", "login": "sans@example.fr"}),
    )
    .await
    .assert_status(201);
    app.login("sans@example.fr", "")
        .await
        .assert_problem(401, "invalid_credentials");

    let token = app.token("dupont@example.fr", "mot-de-passe").await;
    let establishments = app.get("/api/v1/establishments", &token).await;
    let periods = establishments.assert_status(200)[0]["periods"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(periods.len(), 1);
    assert_eq!(
        periods[0]["capacity"], 80,
        "a period without capacity takes the restaurant's"
    );
    assert_eq!(
        periods[0]["payment"],
        json!({"mode": "prepaid", "hold_minutes": 60})
    );
}
