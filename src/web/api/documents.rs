//! The documents families download (the canteen's rules, the tariff deliberation), for API
//! clients: families list and download their organisation's current documents, administrators
//! withdraw one. Publishing is the back office's upload form (`/gestion/documents`): a file of
//! up to 5 MiB does not fit the API's JSON body limit, and the rules of an upload live in
//! `app::documents` either way.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::{documents, Cantine};
use crate::web::error::ApiResult;
use crate::web::extract::{ApiPath, Caller};
use crate::web::file_download::download as file_download;

#[derive(Serialize, ToSchema)]
pub struct DocumentView {
    pub id: Uuid,
    pub title: String,
    /// `rules`, `tariffs` or `other`.
    pub kind: String,
    pub file_name: String,
    pub content_type: String,
    /// Bytes.
    pub size: i32,
    pub published_at: DateTime<Utc>,
}

#[utoipa::path(get, path = "/api/v1/documents", tag = "documents",
    responses((status = 200, body = Vec<DocumentView>, description = "The current documents of the family's organisation, the latest first")))]
pub async fn list(
    State(state): State<Cantine>,
    caller: Caller,
) -> ApiResult<Json<Vec<DocumentView>>> {
    let rows = documents::for_family(&state, &caller).await?;
    Ok(Json(
        rows.into_iter()
            .map(|d| DocumentView {
                id: d.id,
                title: d.title,
                kind: d.kind,
                file_name: d.file_name,
                content_type: d.content_type,
                size: d.size,
                published_at: d.uploaded_at,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents",
    params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/pdf", description = "The file, as an attachment"),
              (status = 404, body = crate::web::error::Problem, description = "Not a current document of the family's organisation")))]
pub async fn download(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let file = documents::file_for_family(&state, &caller, id).await?;
    Ok(file_download(file))
}

#[utoipa::path(delete, path = "/api/v1/admin/documents/{id}", tag = "admin",
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Withdrawn: families no longer see it"),
              (status = 404, body = crate::web::error::Problem, description = "No current document of this id")))]
pub async fn withdraw(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    documents::withdraw(&state, caller.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
