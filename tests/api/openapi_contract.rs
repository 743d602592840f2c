//! The OpenAPI document tells the truth about refusals: every status a route answers is listed for
//! it, and every error is `application/problem+json`, even those axum answers itself.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn document(app: &TestApp) -> Value {
    app.request(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .assert_status(200)
        .clone()
}

/// Every operation of the document: (method, path, operation).
fn operations(doc: &Value) -> Vec<(Method, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if let Ok(method) = method.to_uppercase().parse::<Method>() {
                all.push((method, path.clone(), operation.clone()));
            }
        }
    }
    all
}

/// The path with every `{parameter}` replaced by an id nobody has.
fn with_unknown_ids(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').unwrap() + start;
        out.push_str(&rest[..start]);
        out.push_str("0b7a3c56-1d2e-4f00-8a9b-5c6d7e8f9a0b");
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn documented(operation: &Value, status: u16) -> bool {
    operation["responses"].get(status.to_string()).is_some()
}

#[tokio::test]
async fn every_error_of_the_document_is_problem_json_and_the_shapes_refusals_are_listed() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let operations = operations(&doc);
    assert!(operations.len() > 40, "{} operations", operations.len());
    for (method, path, operation) in &operations {
        for (status, response) in operation["responses"].as_object().unwrap() {
            if status.starts_with('4') || status.starts_with('5') {
                let content = response["content"].as_object();
                let types: Vec<&String> = content.map(|c| c.keys().collect()).unwrap_or_default();
                assert_eq!(
                    types,
                    vec!["application/problem+json"],
                    "{method} {path} {status}"
                );
            }
        }
        if path.contains('{') {
            assert!(documented(operation, 404), "{method} {path} lists no 404");
        }
        if operation.get("requestBody").is_some() {
            assert!(documented(operation, 400), "{method} {path} lists no 400");
            assert!(documented(operation, 413), "{method} {path} lists no 413");
        }
    }
    let find = |method: Method, path: &str| {
        operations
            .iter()
            .find(|(m, p, _)| *m == method && p == path)
            .map(|(_, _, o)| o.clone())
            .unwrap_or_else(|| panic!("{method} {path} not in the document"))
    };
    let login = find(Method::POST, "/api/v1/auth/login");
    for status in [400, 401, 413, 423, 429] {
        assert!(documented(&login, status), "login lists no {status}");
    }
    let headcounts = find(Method::GET, "/api/v1/restaurants/{id}/headcounts");
    for status in [401, 403] {
        assert!(
            documented(&headcounts, status),
            "headcounts lists no {status}"
        );
    }
    let reservation = find(Method::POST, "/api/v1/reservations");
    for status in [401, 403, 409, 422] {
        assert!(
            documented(&reservation, status),
            "reservations lists no {status}"
        );
    }
}

/// Every API route called as a stranger, as a family and as the kitchen, with ids nobody has and
/// an empty body: whatever it answers is listed for it, and its errors are problem+json.
#[tokio::test]
async fn what_each_route_answers_to_strangers_and_wrong_roles_is_in_the_document() {
    let app = spawn_app().await;
    let canteen = setup_repausset(&app).await;
    let family = family_with_child(&app, &canteen.admin, "Dupont", "Léa").await;
    let kitchen = app
        .staff_token(cantine::domain::account::Role::Kitchen)
        .await;
    let doc = document(&app).await;
    let mut checked = 0;
    for (method, path, operation) in operations(&doc) {
        // Those end the sessions this test uses, or move its clock.
        if path.ends_with("/logout")
            || path.ends_with("/clock")
            || path.starts_with("/api/v1/account")
        {
            continue;
        }
        let url = with_unknown_ids(&path);
        let body = (operation.get("requestBody").is_some()).then(|| json!({}));
        for token in [None, Some(family.token.as_str()), Some(kitchen.as_str())] {
            let reply = app.request(method.clone(), &url, token, body.clone()).await;
            let status = reply.status.as_u16();
            assert!(
                documented(&operation, status),
                "{method} {url} as {token:?} answered {status}, not in the document: {}",
                reply.body
            );
            if status >= 400 {
                assert_eq!(
                    reply.content_type, "application/problem+json",
                    "{method} {url} {status}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 120, "{checked} requests");
}

/// A body over the limit is a problem+json 413, whether the route reads JSON or raw bytes (the
/// payment provider's notification, whose signature covers the exact bytes).
#[tokio::test]
async fn a_ten_mebibyte_notification_is_refused_as_problem_json() {
    let app = spawn_app().await;
    let url = format!(
        "{}/api/v1/payments/0b7a3c56-1d2e-4f00-8a9b-5c6d7e8f9a0b/notify",
        app.address
    );
    let huge = vec![b'a'; 10 * 1024 * 1024];
    for content_type in [
        None,
        Some("application/octet-stream"),
        Some("application/json"),
    ] {
        let mut request = app.raw().await.post(&url).body(huge.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 413, "{content_type:?}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{content_type:?}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "body_too_large", "{content_type:?}");
    }
    // A method a route does not have is a problem too, with the methods it has.
    let response = app
        .raw()
        .await
        .delete(format!("{}/api/v1/cart", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}
