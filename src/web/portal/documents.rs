//! "Documents": what the town publishes for families (the canteen's rules, the tariff
//! deliberation), current documents of the family's own organisation only.

use axum::extract::State;
use axum::response::Response;
use maud::html;
use uuid::Uuid;

use super::context::Context;
use crate::app::documents::{self, kind_label};
use crate::app::Cantine;
use crate::web::extract::{ApiPath, Caller};
use crate::web::file_download::download as file_download;
use crate::web::pages::error::PortalResult;
use crate::web::pages::format::date;
use crate::web::pages::layout::{ok, page};

pub const PATH: &str = "/documents";

pub async fn page_get(State(state): State<Cantine>, caller: Caller) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, PATH).await?;
    let documents = documents::for_family(&state, &caller).await?;
    let content = html! {
        @if documents.is_empty() {
            p { "Aucun document n'est publié pour l'instant." }
        } @else {
            p { "Les documents de la restauration scolaire, à télécharger (PDF) :" }
            ul class="choices" {
                @for d in &documents {
                    li {
                        a href=(format!("{PATH}/{}", d.id)) {
                            (d.title) span class="visually-hidden" { " – télécharger le PDF" }
                        }
                        " – " (kind_label(&d.kind)) ", PDF, publié le "
                        (date(d.uploaded_at.with_timezone(&chrono_tz::Europe::Paris).date_naive()))
                    }
                }
            }
        }
    };
    Ok(ok(page("Documents", Some(&context.nav()), content)))
}

pub async fn download(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> PortalResult<Response> {
    let file = documents::file_for_family(&state, &caller, id).await?;
    Ok(file_download(file))
}
