//! Health, the OpenAPI document, request ids, Server-Timing, and the answers to unknown routes.

use crate::helpers::*;

#[tokio::test]
async fn health_openapi_and_unknown_routes() {
    let app = spawn_app().await;
    let health = app
        .request(reqwest::Method::GET, "/health", None, None)
        .await;
    assert_eq!(health.assert_status(200)["status"], "ok");

    let doc = app
        .request(reqwest::Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let paths = doc.assert_status(200)["paths"].as_object().unwrap().clone();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/admin/periods",
        "/api/v1/reservations",
        "/api/v1/reservations/{id}/confirm",
        "/api/v1/payments/{id}/notify",
        "/api/v1/children/{child_id}/calendar",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }

    app.request(reqwest::Method::GET, "/api/v1/nothing-here", None, None)
        .await
        .assert_problem(404, "not_found");

    let response = app
        .raw()
        .await
        .get(format!("{}/health", app.address))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    let timing = response.headers()["server-timing"].to_str().unwrap();
    let millis = cantine::web::server_timing::parse(timing)
        .unwrap_or_else(|| panic!("no app duration in Server-Timing: {timing}"));
    assert!(millis >= 0.0, "{timing}");
}

#[tokio::test]
async fn the_clock_route_exists_only_with_a_set_clock() {
    let app = spawn_app().await;
    let admin = app.staff_token(cantine::domain::account::Role::Admin).await;
    let reply = app
        .post(
            "/api/v1/admin/clock",
            &admin,
            serde_json::json!({"advance_minutes": 30}),
        )
        .await;
    let now: chrono::DateTime<chrono::Utc> = reply.assert_status(200)["now"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(now >= guide_now() + chrono::Duration::minutes(30));

    let url = app.database_url.clone();
    let real_time = spawn_app_on_wall_clock(url).await;
    let admin = real_time
        .staff_token(cantine::domain::account::Role::Admin)
        .await;
    real_time
        .post(
            "/api/v1/admin/clock",
            &admin,
            serde_json::json!({"advance_minutes": 30}),
        )
        .await
        .assert_problem(404, "not_found");
}
