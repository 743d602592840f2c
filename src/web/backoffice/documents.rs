//! `/gestion/documents`: administrators publish the PDF documents families download (the
//! canteen's rules, the tariff deliberation), see them all, and withdraw them. The rules of an
//! upload are `app::documents`' (shared with the API); a refused upload stores nothing and
//! says why next to the field.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::context::StaffContext;
use super::error::StaffResult;
use super::layout::page;
use crate::app::documents::{self, kind_label, PublishError, Upload, UploadErrors, KINDS};
use crate::app::Cantine;
use crate::web::error::ApiError;
use crate::web::extract::{ApiPath, ApiQuery, Caller};
use crate::web::file_download::download as file_download;
use crate::web::pages::format::date_time;
use crate::web::pages::layout::{csrf_field, render, see_other};

pub const PATH: &str = "/gestion/documents";

#[derive(Deserialize)]
pub struct DocumentsQuery {
    /// After a form: `publie` or `retire`.
    pub fait: Option<String>,
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<DocumentsQuery>,
) -> StaffResult<Response> {
    let done = match query.fait.as_deref() {
        Some("publie") => Some("Document publié : les familles le trouvent dans « Documents »."),
        Some("retire") => Some("Document retiré : les familles ne le voient plus."),
        _ => None,
    };
    documents_page(
        &state,
        &caller,
        &Upload::default(),
        &UploadErrors::default(),
        done,
        StatusCode::OK,
    )
    .await
}

fn size_text(size: i32) -> String {
    if size >= 1024 * 1024 {
        format!("{:.1} Mio", size as f64 / (1024.0 * 1024.0)).replace('.', ",")
    } else {
        format!("{} Kio", (size + 1023) / 1024)
    }
}

async fn documents_page(
    state: &Cantine,
    caller: &Caller,
    values: &Upload,
    errors: &UploadErrors,
    done: Option<&str>,
    status: StatusCode,
) -> StaffResult<Response> {
    let context = StaffContext::load(state, caller, PATH).await?;
    let all = documents::all(state).await?;
    let described = |id: &'static str, error: Option<&str>| error.map(|_| id);
    let content = html! {
        @if let Some(done) = done {
            p class="info" role="status" { (done) }
        }
        @if errors.any() {
            p class="alert" role="alert" { "Le document n'a pas été publié : corrigez les champs signalés." }
        }
        section aria-labelledby="publier" {
            h2 id="publier" { "Publier un document" }
            form method="post" action=(PATH) enctype="multipart/form-data" class="stack" {
                (csrf_field(&context.csrf))
                p {
                    label for="titre" { "Titre (ce que les familles lisent)" }
                    input id="titre" name="titre" type="text" maxlength="200" value=(values.title)
                        required aria-invalid=[errors.title.map(|_| "true")]
                        aria-describedby=[described("titre-erreur", errors.title)];
                    @if let Some(e) = errors.title { span id="titre-erreur" class="field-error" { (e) } }
                }
                p {
                    label for="nature" { "Nature" }
                    select id="nature" name="nature" required
                        aria-invalid=[errors.kind.map(|_| "true")]
                        aria-describedby=[described("nature-erreur", errors.kind)] {
                        @for (value, label) in KINDS {
                            option value=(value) selected[values.kind == value] { (label) }
                        }
                    }
                    @if let Some(e) = errors.kind { span id="nature-erreur" class="field-error" { (e) } }
                }
                p {
                    label for="fichier" { "Fichier PDF (5 Mio au plus)" }
                    input id="fichier" name="fichier" type="file" accept="application/pdf,.pdf" required
                        aria-invalid=[errors.file.map(|_| "true")]
                        aria-describedby=[described("fichier-erreur", errors.file)];
                    @if let Some(e) = errors.file { span id="fichier-erreur" class="field-error" { (e) } }
                }
                p { button type="submit" class="primary" { "Publier" } }
            }
        }
        section aria-labelledby="liste" {
            h2 id="liste" { "Documents publiés" }
            @if all.is_empty() {
                p { "Aucun document pour l'instant." }
            } @else {
                div class="scroll" {
                    table class="stack" {
                        caption { "Documents, du plus récent au plus ancien" }
                        thead {
                            tr {
                                th scope="col" { "Titre" }
                                th scope="col" { "Nature" }
                                th scope="col" { "Fichier" }
                                th scope="col" { "Publié le" }
                                th scope="col" { "État" }
                                th scope="col" { "Action" }
                            }
                        }
                        tbody {
                            @for d in &all {
                                tr {
                                    th scope="row" data-label="Titre" { (d.title) }
                                    td data-label="Nature" { (kind_label(&d.kind)) }
                                    td data-label="Fichier" {
                                        a href=(format!("{PATH}/{}", d.id)) { (d.file_name) }
                                        " (" (size_text(d.size)) ")"
                                    }
                                    td data-label="Publié le" { (date_time(d.uploaded_at)) }
                                    td data-label="État" {
                                        @if let Some(at) = d.withdrawn_at {
                                            "✗ Retiré le " (date_time(at))
                                        } @else {
                                            "✓ Visible des familles"
                                            @if documents::is_public(&d.kind) {
                                                " et sur la page de connexion"
                                            }
                                        }
                                    }
                                    td data-label="Action" {
                                        @if d.withdrawn_at.is_none() {
                                            form method="post" action=(format!("{PATH}/{}/retrait", d.id)) {
                                                (csrf_field(&context.csrf))
                                                button type="submit" {
                                                    "Retirer" span class="visually-hidden" { " « " (d.title) " »" }
                                                }
                                            }
                                        } @else {
                                            "—"
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(render(
        status,
        page("Documents des familles", Some(&context.nav()), content),
    ))
}

/// The upload form's fields; the CSRF field was checked by the guard.
async fn read_upload(mut multipart: Multipart) -> Result<Upload, ApiError> {
    let unreadable = |_| ApiError::bad_request("malformed_body", "unreadable multipart form");
    let mut upload = Upload::default();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("titre") => upload.title = field.text().await.map_err(unreadable)?,
            Some("nature") => upload.kind = field.text().await.map_err(unreadable)?,
            Some("fichier") => {
                upload.file_name = field.file_name().unwrap_or_default().to_string();
                upload.bytes = field.bytes().await.map_err(unreadable)?.to_vec();
            }
            _ => {}
        }
    }
    Ok(upload)
}

pub async fn upload(
    State(state): State<Cantine>,
    caller: Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> StaffResult<Response> {
    let multipart =
        multipart.map_err(|_| ApiError::bad_request("malformed_body", "not a multipart form"))?;
    let upload = read_upload(multipart).await?;
    // What the form shows again if refused; a browser cannot refill a file field.
    let values = Upload {
        title: upload.title.clone(),
        kind: upload.kind.clone(),
        ..Upload::default()
    };
    match documents::publish(&state, caller.user_id, upload).await {
        Ok(_) => Ok(see_other(&format!("{PATH}?fait=publie"))),
        Err(PublishError::Failed(e)) => Err(e.into()),
        Err(PublishError::Invalid(errors)) => {
            documents_page(
                &state,
                &caller,
                &values,
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn withdraw(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> StaffResult<Response> {
    documents::withdraw(&state, caller.user_id, id).await?;
    Ok(see_other(&format!("{PATH}?fait=retire")))
}

/// The file, for the administrators, withdrawn or not.
pub async fn download(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
) -> StaffResult<Response> {
    let file = documents::file(&state, id).await?;
    Ok(file_download(file))
}
