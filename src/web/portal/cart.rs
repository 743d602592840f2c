//! "Mon panier" (first guide step 10): what awaits payment, each with its deadline and the time
//! left before it (as of the page; no script runs in the portal), one total;
//! "Accéder au paiement" starts one payment for all of it (`app::payments::start`) and
//! sends the browser to the provider's page (the built-in simulator), which links back to
//! `/paiements/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono_tz::Europe::Paris;
use maud::{html, Markup};
use uuid::Uuid;

use super::context::Context;
use super::history::{history_of, table};
use crate::app::queries::cart::cart;
use crate::app::queries::history::{self, HistoryQuery};
use crate::app::{payments, Cantine};
use crate::domain::payment::PaymentStatus;
use crate::domain::reservation::ReservationStatus;
use crate::web::extract::{ApiPath, Caller};
use crate::web::pages::error::PortalResult;
use crate::web::pages::format::{date, date_time, euros, time, time_left};
use crate::web::pages::layout::{csrf_field, ok, page, render, see_other};

pub async fn page_get(State(state): State<Cantine>, caller: Caller) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/panier").await?;
    let cart = cart(&state, &caller).await?;
    let in_progress = payments::in_progress(&state, &caller).await?;
    let requests = history::history(
        &state,
        &caller,
        HistoryQuery {
            page: 1,
            per_page: 100,
            child_id: None,
            search: None,
            status: Some(ReservationStatus::Requested),
        },
    )
    .await?
    .items;
    let now = state.clock.now();
    let today = state.clock.paris_today();
    let content = html! {
        h2 { "Récapitulatif de mes réservations en attente de paiement" }
        (in_progress_notice(&in_progress))
        @if !requests.is_empty() {
            div class="alert" role="status" {
                p { "Ces demandes ne sont pas encore confirmées : elles ne sont pas dans le panier, et leurs places sont libérées une heure après la demande sans confirmation." }
                ul {
                    @for r in &requests {
                        li {
                            a href={"/reservations/" (r.id)} { "Confirmer ou abandonner la demande n° " (r.number) }
                            " (" (r.child) ", du " (date(r.first_day)) " au " (date(r.last_day)) ")"
                        }
                    }
                }
            }
        }
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
                            th scope="col" { "Établissement / Période" }
                            th scope="col" { "Dates" }
                            th scope="col" { "Montant" }
                            th scope="col" { "À régler avant" }
                        }
                    }
                    tbody {
                        @for r in &cart.reservations {
                            tr {
                                td data-label="Réservation" {
                                    a href={"/reservations/" (r.id)} { "n° " (r.number) }
                                    br;
                                    span class="note" { "créée le " (date_time(r.created_at)) }
                                }
                                td data-label="Enfant" { (r.child) }
                                td data-label="Établissement / Période" { (r.establishment) br; (r.period) }
                                td data-label="Dates" { "du " (date(r.first_day)) " au " (date(r.last_day)) }
                                td data-label="Montant" { (euros(r.total)) }
                                td data-label="À régler avant" {
                                    @if r.pay_before.with_timezone(&Paris).date_naive() == today {
                                        strong { (time(r.pay_before)) }
                                    } @else {
                                        strong { (date_time(r.pay_before)) }
                                    }
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

/// A payment started whose page was left (the tab closed): the way back to it.
fn in_progress_notice(in_progress: &[payments::InProgress]) -> Markup {
    html! {
        @for payment in in_progress {
            div class="info" role="status" {
                p {
                    "Un paiement est en cours (" strong { (euros(payment.amount)) } ", commencé à "
                    (time(payment.started_at)) ") : si vous avez fermé sa page, reprenez-le. "
                    "Sans réponse de la banque, il est abandonné au bout de quelques minutes."
                }
                p { a class="button primary" href=(payment.redirect_url) { "Reprendre le paiement en cours" } }
            }
        }
    }
}

/// Pays the whole cart: one payment for every reservation awaiting payment. When a payment of
/// them is already in progress, the page says so, in the portal's frame, with the way to it.
pub async fn pay(State(state): State<Cantine>, caller: Caller) -> PortalResult<Response> {
    let cart = cart(&state, &caller).await?;
    let ids: Vec<Uuid> = cart.reservations.iter().map(|r| r.id).collect();
    let started = match payments::start(&state, &caller, &ids).await {
        Ok(started) => started,
        Err(e) if e.code() == "payment_pending" => {
            let context = Context::load(&state, &caller, "/panier").await?;
            let in_progress = payments::in_progress(&state, &caller).await?;

            let content = html! {
                p class="alert" role="alert" {
                    "Un paiement est déjà en cours pour ces réservations : terminez-le, ou attendez "
                    "quelques minutes qu'il soit abandonné pour en commencer un autre."
                }
                (in_progress_notice(&in_progress))
                p class="actions" { a href="/panier" { "Retour au panier" } }
            };
            return Ok(render(
                StatusCode::CONFLICT,
                page("Paiement déjà en cours", Some(&context.nav()), content),
            ));
        }
        Err(e) => return Err(e.into()),
    };
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
            "Le paiement n'a pas abouti. Aucun montant n'a été débité : vos réservations restent dans \
             votre panier jusqu'à leur délai.",
        ),
        PaymentStatus::Pending => (
            "Paiement en cours",
            "Le paiement n'est pas encore confirmé par la banque. Rechargez cette page dans un instant.",
        ),
    };
    let content = html! {
        p role="status" class={"info payment-" (payment.status.as_str())} { (message) }
        dl class="summary" {
            @match payment.status {
                PaymentStatus::Succeeded => { dt { "Montant payé en ligne" } dd { (euros(payment.amount)) } }
                PaymentStatus::Failed => {
                    dt { "Montant du paiement refusé" }
                    dd { (euros(payment.amount)) " – aucun montant n'a été débité" }
                }
                PaymentStatus::Pending => { dt { "Montant en cours de paiement" } dd { (euros(payment.amount)) } }
            }
            @if payment.status != PaymentStatus::Failed && !shown_as_zero(payment.credit_used) {
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
