//! Two families never see or touch each other's data: another family's id answers 404, and
//! nothing is stored.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn families_cannot_see_or_touch_each_others_data() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let martin = family_with_child(&app, &canteen.admin, "MARTIN", "Inès").await;

    let booked = app
        .post(
            "/api/v1/reservations",
            &dupont.token,
            json!({"child_id": dupont.child_id, "period_id": canteen.period_id, "days": ["2017-01-23"]}),
        )
        .await;
    let id = booked.assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let events = app.event_count().await;

    // Martin reads and acts on Dupont's reservation and child: all 404.
    app.get(&format!("/api/v1/reservations/{id}"), &martin.token)
        .await
        .assert_problem(404, "not_found");
    app.post_empty(&format!("/api/v1/reservations/{id}/confirm"), &martin.token)
        .await
        .assert_problem(404, "not_found");
    app.post_empty(&format!("/api/v1/reservations/{id}/cancel"), &martin.token)
        .await
        .assert_problem(404, "not_found");
    app.post(
        "/api/v1/payments",
        &martin.token,
        json!({"reservation_ids": [id]}),
    )
    .await
    .assert_problem(404, "not_found");
    app.get(
        &format!(
            "/api/v1/children/{}/calendar?period_id={}&month=2017-01",
            dupont.child_id, canteen.period_id
        ),
        &martin.token,
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        "/api/v1/reservations",
        &martin.token,
        json!({"child_id": dupont.child_id, "period_id": canteen.period_id, "days": ["2017-01-24"]}),
    )
    .await
    .assert_problem(404, "unknown_child");
    assert_eq!(
        app.event_count().await,
        events,
        "refused requests store nothing"
    );
    let (payments,): (i64,) = sqlx::query_as("SELECT count(*) FROM payments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(payments, 0);

    // Each family's lists hold only its own.
    let martin_history = app.get("/api/v1/reservations", &martin.token).await;
    assert_eq!(martin_history.assert_status(200)["total"], 0);
    let dupont_history = app.get("/api/v1/reservations", &dupont.token).await;
    assert_eq!(dupont_history.assert_status(200)["total"], 1);
    let martin_family = app.get("/api/v1/family", &martin.token).await;
    let children = martin_family.assert_status(200)["children"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0]["first_name"], "Inès");
    assert_eq!(martin_family.body["id"], martin.id);

    // Dupont still owns it.
    app.post_empty(&format!("/api/v1/reservations/{id}/confirm"), &dupont.token)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn roles_are_checked_on_every_route() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let dupont = family_with_child(&app, &canteen.admin, "DUPONT", "Hervé").await;
    let kitchen = app
        .staff_token(cantine::domain::account::Role::Kitchen)
        .await;

    // A family is not an admin.
    app.post(
        "/api/v1/admin/restaurants",
        &dupont.token,
        json!({"name": "X", "capacity": 1}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.post(
        "/api/v1/admin/clock",
        &dupont.token,
        json!({"advance_minutes": 5}),
    )
    .await
    .assert_problem(403, "forbidden");
    // Staff have no family.
    app.get("/api/v1/reservations", &kitchen)
        .await
        .assert_problem(403, "forbidden");
    app.get("/api/v1/cart", &canteen.admin)
        .await
        .assert_problem(403, "forbidden");
    // No token, or a made-up one.
    app.request(reqwest::Method::GET, "/api/v1/family", None, None)
        .await
        .assert_problem(401, "unauthorized");
    app.get("/api/v1/family", "not-a-token")
        .await
        .assert_problem(401, "unauthorized");
}
