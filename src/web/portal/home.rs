//! The portal's home: the family, its children, the second guide's actions, what awaits payment
//! and the latest reservations (the first guide's account page).

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::context::Context;
use super::history::{history_of, table};
use crate::app::queries::cart::cart;
use crate::app::Cantine;
use crate::web::extract::Caller;
use crate::web::pages::error::PortalResult;
use crate::web::pages::format::euros;
use crate::web::pages::layout::{ok, page};

pub async fn page_get(State(state): State<Cantine>, caller: Caller) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/").await?;
    let cart = cart(&state, &caller).await?;
    let history = history_of(&state, &caller, 1, None).await?;
    let content = html! {
        section aria-labelledby="enfants" {
            h2 id="enfants" { "Mes enfants" }
            ul {
                @for child in &context.family.children {
                    li { (child.first_name) " " (child.last_name) }
                }
            }
        }
        section aria-labelledby="actions" {
            h2 id="actions" { "Quelle action souhaitez-vous effectuer ?" }
            ul class="actions" {
                li { a class="button" href="/reservation/nouvelle" { "+ Nouvelle réservation" } }
                li { a class="button" href="/panier" { "Mon panier" } }
                li { a class="button" href="/historique" { "Gérer mes réservations" } }
                li { a class="button" href="/factures" { "Consulter mes factures" } }
                li { a class="button" href="/documents" { "Documents (règlement, tarifs)" } }
            }
            @if !cart.reservations.is_empty() {
                p class="alert" {
                    (cart.reservations.len()) " réservation(s) en attente de paiement, total "
                    (euros(cart.to_pay)) " : "
                    a href="/panier" { "accéder à mon panier" }
                }
            }
        }
        section aria-labelledby="dernieres" {
            h2 id="dernieres" { "Mes dernières réservations" }
            @if history.items.is_empty() {
                p { "Aucune réservation pour l'instant." }
            } @else {
                (table(&history.items, "Les 5 dernières réservations"))
                p { a href="/historique" { "Tout l'historique et la recherche" } }
            }
        }
    };
    Ok(ok(page(
        &format!("Mon compte famille – {}", context.family.name),
        Some(&context.nav()),
        content,
    )))
}
