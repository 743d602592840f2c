//! `/gestion/personnel`: the town's staff accounts, to unlock a colleague locked out by three
//! wrong passwords or give one who lost theirs a new password (`app::administration::staff`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::form;
use crate::app::administration::staff::{self, StaffMember};
use crate::app::Cantine;
use crate::web::backoffice::context::StaffContext;
use crate::web::backoffice::error::StaffResult;
use crate::web::backoffice::layout::page;
use crate::web::backoffice::role_label;
use crate::web::extract::{ApiPath, ApiQuery, Caller};
use crate::web::pages::format::date_time;
use crate::web::pages::layout::{csrf_field, render};

pub const PATH: &str = "/gestion/personnel";

#[derive(Deserialize)]
pub struct DoneQuery {
    pub fait: Option<String>,
    pub compte: Option<Uuid>,
}

pub async fn list(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<DoneQuery>,
) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, PATH).await?;
    let members = staff::list(&state).await?;
    let done = match (query.fait.as_deref(), query.compte) {
        (Some("deverrouille"), Some(id)) => members
            .iter()
            .find(|m| m.id == id)
            .map(|m| format!("Le compte {} est déverrouillé.", m.login)),
        _ => None,
    };
    let content = html! {
        @if let Some(done) = done {
            p class="info" role="status" { (done) }
        }
        p {
            "Un compte verrouillé après trois mots de passe erronés reste fermé jusqu'à son "
            "déverrouillage ; ses sessions déjà ouvertes continuent. Un nouveau mot de passe "
            "ferme toutes les sessions du compte : remettez-le en main propre à son titulaire."
        }
        div class="scroll admin" {
            table class="stack" {
                caption { "Comptes du personnel" }
                thead {
                    tr {
                        th scope="col" { "Identifiant" }
                        th scope="col" { "Rôle" }
                        th scope="col" { "État" }
                        th scope="col" { "Actions" }
                    }
                }
                tbody {
                    @for member in &members {
                        tr {
                            th scope="row" data-label="Identifiant" {
                                (member.login)
                                @if member.id == caller.user_id { " (vous)" }
                            }
                            td data-label="Rôle" { (role_label(member.role)) }
                            td data-label="État" { (state_text(member)) }
                            td data-label="Actions" { (actions(member, &caller, &context.csrf)) }
                        }
                    }
                }
            }
        }
        p class="note" {
            "Si plus aucun administrateur ne peut se connecter : "
            code { "cantine staff unlock --login IDENTIFIANT --password NOUVEAU" }
            " sur le serveur."
        }
    };
    Ok(render(
        StatusCode::OK,
        page("Personnel", Some(&context.nav()), content),
    ))
}

fn state_text(member: &StaffMember) -> String {
    match (member.disabled_at, member.locked_at) {
        (Some(at), _) => format!("Désactivé depuis le {}", date_time(at)),
        (None, Some(at)) => format!("🔒 Verrouillé depuis le {}", date_time(at)),
        (None, None) => "Actif".to_string(),
    }
}

fn actions(member: &StaffMember, caller: &Caller, csrf: &str) -> Markup {
    let path = format!("{PATH}/{}", member.id);
    html! {
        @if member.locked_at.is_some() {
            form method="post" action=(format!("{path}/deverrouillage")) class="inline" {
                (csrf_field(csrf))
                button type="submit" class="primary" {
                    "Déverrouiller" span class="visually-hidden" { " " (member.login) }
                }
            }
        }
        @if member.id != caller.user_id {
            form method="post" action=(format!("{path}/mot-de-passe")) class="inline" {
                (csrf_field(csrf))
                button type="submit" {
                    "Nouveau mot de passe" span class="visually-hidden" { " pour " (member.login) }
                }
            }
        }
    }
}

pub async fn unlock(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> StaffResult<Response> {
    staff::unlock_by_id(&state, &caller, id).await?;
    Ok(form::done(&format!("{PATH}?fait=deverrouille&compte={id}")))
}

/// The new password is shown on this answer only (it is stored hashed), so it is a page, not a
/// redirect; answers are never cached (`Cache-Control: no-store` on every page).
pub async fn reset_password(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> StaffResult<Response> {
    let (account, password) = staff::reset_password(&state, &caller, id).await?;
    let context = StaffContext::load(&state, &caller, PATH).await?;
    let content = html! {
        p { a href=(PATH) { "← Tout le personnel" } }
        p class="info" role="status" {
            "Nouveau mot de passe de " strong { (account.login) } " ("
            (role_label(account.role)) ") :"
        }
        p class="secret" { code { (password) } }
        p {
            "Il n'est affiché qu'une fois. Remettez-le à son titulaire, qui le changera dans "
            "« Mon compte ». Ses sessions ouvertes sont fermées et son compte est déverrouillé."
        }
    };
    Ok(render(
        StatusCode::OK,
        page("Nouveau mot de passe", Some(&context.nav()), content),
    ))
}
