//! Makes the OpenAPI document true about refusals: every operation lists the error statuses that
//! the edge, the guard and the extractors can give it, each as `application/problem+json`.
//!
//! The handlers' annotations name the refusals of their own use case (a 423 on login, a 409 on a
//! payment); the refusals that come from the route's shape are derived here from the same facts
//! that produce them, so that the document cannot drift from the router:
//! - the route table's [`Access`] (401 without a session or proof, 403 for another role);
//! - a path parameter (404 for an id that is not the caller's, or a malformed one: 400);
//! - a body (400 malformed or control characters, 413 over the limit);
//! - the `Idempotency-Key` header (400 malformed, 409 while the first request runs, 422 when the
//!   key comes back with another body).

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::Modify;

use crate::web::access::Access;
use crate::web::idempotency;
use crate::web::routes;

pub const PROBLEM_JSON: &str = "application/problem+json";

pub struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let table = routes::table();
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                (Method::GET, item.get.as_mut()),
                (Method::POST, item.post.as_mut()),
                (Method::PUT, item.put.as_mut()),
                (Method::PATCH, item.patch.as_mut()),
                (Method::DELETE, item.delete.as_mut()),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let access = table
                    .iter()
                    .find(|r| r.method == method && r.path == path)
                    .map(|r| r.access);
                add_refusals(operation, &method, path, access);
                problems_as_problem_json(operation);
            }
        }
    }
}

/// The statuses a request to this operation can be refused with before or around its handler.
pub fn shape_refusals(
    method: &Method,
    path: &str,
    access: Option<Access>,
    has_body: bool,
) -> BTreeSet<u16> {
    let mut statuses = BTreeSet::new();
    let has_path_parameter = path.contains('{');
    if has_path_parameter || has_body || method == Method::GET {
        // A malformed path parameter or query string, or a malformed body.
        statuses.insert(400);
    }
    if has_path_parameter {
        statuses.insert(404);
    }
    if has_body {
        statuses.insert(413);
    }
    match access {
        Some(Access::Proof) => {
            statuses.insert(401);
        }
        Some(access @ (Access::Family | Access::Staff(_) | Access::AnyUser)) => {
            statuses.insert(401);
            if !matches!(access, Access::AnyUser) {
                statuses.insert(403);
            }
        }
        _ => {}
    }
    if idempotency::applies_to(method, path) {
        statuses.extend([400, 409, 422]);
    }
    statuses
}

fn add_refusals(operation: &mut Operation, method: &Method, path: &str, access: Option<Access>) {
    let has_body = operation.request_body.is_some();
    for status in shape_refusals(method, path, access, has_body) {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(problem_response(status)));
    }
}

fn problem_response(status: u16) -> Response {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let mut response = Response::new(format!("{reason} (problem details)"));
    response
        .content
        .insert(PROBLEM_JSON.to_string(), problem_content());
    response
}

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("Problem")))
}

/// Every error answer is `application/problem+json` (`error.rs`), whatever the annotation says.
fn problems_as_problem_json(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if !(status.starts_with('4') || status.starts_with('5')) {
            continue;
        }
        response.content.shift_remove("application/json");
        response
            .content
            .entry(PROBLEM_JSON.to_string())
            .or_insert_with(problem_content);
    }
}
