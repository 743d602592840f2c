//! "Mon panier" (first guide step 10): what awaits payment, each with its deadline and the time
//! left before it (as of the page; no script runs in the portal), one total;
//! "Accéder au paiement" starts one payment for all of it (`app::payments::start`) and
//! sends the browser to the provider's page (the built-in simulator), which links back to
//! `/paiements/{id}`.

use axum::extract::State;
use axum::response::Response;
use maud::html;
use uuid::Uuid;

use super::context::Context;
use super::history::{history_of, table};
use crate::app::queries::cart::cart;
use crate::app::{payments, Cantine};
use crate::domain::payment::PaymentStatus;
use crate::web::extract::{ApiPath, Caller};
use crate::web::pages::error::PortalResult;
use crate::web::pages::format::{date_time, euros, time, time_left};
use crate::web::pages::layout::{csrf_field, ok, page, see_other};

pub async fn page_get(State(state): State<Cantine>, caller: Caller) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/panier").await?;
    let cart = cart(&state, &caller).await?;
    let now = state.clock.now();
    let content = html! {
        h2 { "Récapitulatif de mes réservations en attente de paiement" }
        @if cart.reservations.is_empty() {
            p { "Votre panier est vide : aucune réservation n'attend de paiement." }
            p { a class="button" href="/reservation/nouvelle" { "+ Nouvelle réservation" } }
        } @else {
            ul class="info" {
                li { "Les réservations ci-dessous sont enregistrées, mais ne sont pas encore validées." }
                li { "Elles seront validées définitivement à la validation de votre paiement en ligne." }
                li { "Sans paiement de votre part avant le délai indiqué, elles seront automatiquement annulées." }
            }
            div class="scroll" {
                table class="cart stack" {
                    caption { "Réservations à payer" }
                    thead {
                        tr {
                            th scope="col" { "Réservation" }
                            th scope="col" { "Enfant" }
                            th scope="col" { "Établissement" }
                            th scope="col" { "Montant" }
                            th scope="col" { "À régler avant" }
                        }
                    }
                    tbody {
                        @for r in &cart.reservations {
                            tr {
                                td data-label="Réservation" { a href={"/reservations/" (r.id)} { "n° " (r.number) } }
                                td data-label="Enfant" { (r.child) }
                                td data-label="Établissement" { (r.establishment) }
                                td data-label="Montant" { (euros(r.total)) }
                                td data-label="À régler avant" {
                                    span { strong { (time(r.pay_before)) } " (" (date_time(r.pay_before)) ")" }
                                    br;
                                    span class="countdown" { (time_left(now, r.pay_before)) }
                                }
                            }
                        }
                    }
                }
            }
            dl class="summary" {
                dt { "Total des réservations" } dd { (euros(cart.total)) }
                @if !shown_as_zero(cart.credit) {
                    dt { "Votre avoir, déduit d'abord" } dd { (euros(cart.credit)) }
                }
                dt { "Montant total de votre paiement" } dd { strong { (euros(cart.to_pay)) } }
            }
            form method="post" action="/panier/paiement" class="actions" {
                (csrf_field(&context.csrf))
                a href="/" { "Retour" } " "
                a href="/reservation/nouvelle" { "Nouvelle réservation" } " "
                button type="submit" class="primary" { "Accéder au paiement" }
            }
            p class="note" { "Votre réservation sera enregistrée une fois le paiement effectué." }
        }
    };
    Ok(ok(page("Mon panier", Some(&context.nav()), content)))
}

/// Pays the whole cart: one payment for every reservation awaiting payment.
pub async fn pay(State(state): State<Cantine>, caller: Caller) -> PortalResult<Response> {
    let cart = cart(&state, &caller).await?;
    let ids: Vec<Uuid> = cart.reservations.iter().map(|r| r.id).collect();
    let started = payments::start(&state, &caller, &ids).await?;
    if started.status == PaymentStatus::Succeeded {
        // The credit paid everything: there is no provider page to visit.
        return Ok(see_other(&format!("/paiements/{}", started.id)));
    }
    Ok(see_other(&started.redirect_url))
}

/// Where the provider's page sends the family back.
pub async fn payment_page(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/panier").await?;
    let payment = payments::show(&state, &caller, id).await?;
    let history = history_of(&state, &caller, 1, None).await?;
    let (title, message) = match payment.status {
        PaymentStatus::Succeeded => (
            "Paiement accepté",
            "Merci : votre paiement est enregistré et vos réservations sont validées.",
        ),
        PaymentStatus::Failed => (
            "Paiement refusé",
            "Le paiement n'a pas abouti. Vos réservations restent dans votre panier jusqu'à leur délai.",
        ),
        PaymentStatus::Pending => (
            "Paiement en cours",
            "Le paiement n'est pas encore confirmé par la banque. Rechargez cette page dans un instant.",
        ),
    };
    let content = html! {
        p role="status" class={"info payment-" (payment.status.as_str())} { (message) }
        dl class="summary" {
            dt { "Montant payé en ligne" } dd { (euros(payment.amount)) }
            @if !shown_as_zero(payment.credit_used) {
                dt { "Avoir utilisé" } dd { (euros(payment.credit_used)) }
            }
            @if !payment.invoice_numbers.is_empty() {
                dt { "Facture" } dd { (payment.invoice_numbers.join(", ")) " – " a href="/factures" { "voir mes factures" } }
            }
        }
        @if !payment.refunds.is_empty() {
            p class="alert" {
                (payment.refunds.len()) " réservation(s) n'ont pas pu être payées (délai dépassé ou places reprises) : "
                "leur montant vous sera remboursé."
            }
        }
        h2 { "Mes dernières réservations" }
        (table(&history.items, "Les 5 dernières réservations"))
        p class="actions" {
            a href="/" { "Retour au compte" } " "
            @if payment.status == PaymentStatus::Failed { a class="button primary" href="/panier" { "Retour au panier" } }
        }
    };
    Ok(ok(page(title, Some(&context.nav()), content)))
}

/// An amount that reads `0,00 €` once rounded to the cent is not shown.
pub(super) fn shown_as_zero(amount: rust_decimal::Decimal) -> bool {
    amount.round_dp(2).is_zero()
}
