//! `/gestion`: the back office's home, one per role: the sections this role may open, and what
//! each is for.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::context::StaffContext;
use super::error::StaffResult;
use super::layout::page;
use super::{role_label, sections_for, HOME};
use crate::app::Cantine;
use crate::domain::account::Role;
use crate::web::extract::Caller;
use crate::web::pages::layout::ok;

pub async fn page_get(State(state): State<Cantine>, caller: Caller) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, HOME).await?;
    let content = html! {
        p { "Vous êtes connecté en tant que " strong { (context.login) } ", rôle « " (role_label(context.role)) " »." }
        section aria-labelledby="espaces" {
            h2 id="espaces" { "Vos espaces" }
            ul class="sections" {
                @for section in sections_for(context.role).filter(|s| s.path != HOME) {
                    li class="card" {
                        h3 { a href=(section.path) { (section.label) } }
                        p { (section.summary) }
                    }
                }
            }
            @if context.role == Role::Auditor {
                p class="info" {
                    "Les mêmes journaux se lisent aussi par l'API (GET /api/v1/audit/events et "
                    "/api/v1/audit/logins, avec un jeton de connexion), et en entier par "
                    code { "cantine audit export" } "."
                }
            }
        }
    };
    Ok(ok(page(
        &format!("Espace de gestion – {}", role_label(context.role)),
        Some(&context.nav()),
        content,
    )))
}
