//! The first guide's steps 3 to 5: choose the child, then the restaurant and its period, whose
//! rules are shown in plain words before the calendar. Establishments and periods come from the
//! family queries (with this family's price).

use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::context::Context;
use crate::app::queries::family::{self, Establishment, Period};
use crate::app::Cantine;
use crate::db::reference::ChildRow;
use crate::domain::tariff::{BracketRange, PriceStep};
use crate::web::error::ApiError;
use crate::web::extract::{ApiQuery, Caller};
use crate::web::pages::error::{PortalError, PortalResult};
use crate::web::pages::format::{date, euros, payment_mode};
use crate::web::pages::layout::{ok, page};

#[derive(Deserialize)]
pub struct Choice {
    pub enfant: Option<Uuid>,
    pub restaurant: Option<Uuid>,
    pub periode: Option<Uuid>,
}

/// The family's child, or 404: ids in the address are never trusted.
pub fn child_of(context: &Context, id: Uuid) -> PortalResult<&ChildRow> {
    context
        .family
        .children
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| PortalError(ApiError::not_found("child")))
}

pub async fn establishments(state: &Cantine, caller: &Caller) -> PortalResult<Vec<Establishment>> {
    Ok(family::establishments(state, caller).await?)
}

/// The restaurant's name and the period.
pub async fn find_period(
    state: &Cantine,
    caller: &Caller,
    period_id: Uuid,
) -> PortalResult<(String, Period)> {
    Ok(family::period_of(state, caller, period_id).await?)
}

/// A bracket in words: "tranche de 501 à 900 €", "tranche jusqu'à 500 €", "tranche au-delà de
/// 900 €".
pub fn bracket_words(bracket: &BracketRange) -> String {
    match (bracket.from, bracket.up_to) {
        (_, None) if bracket.from == 0 => "tarif unique".to_string(),
        (from, None) => format!("tranche au-delà de {} €", from - 1),
        (0, Some(up_to)) => format!("tranche jusqu'à {up_to} €"),
        (from, Some(up_to)) => format!("tranche de {from} à {up_to} €"),
    }
}

/// The family's quotient familial in words.
pub fn quotient_words(quotient: Option<i32>) -> String {
    match quotient {
        Some(q) => format!("selon votre quotient familial : {q} €"),
        None => "quotient familial non communiqué : tarif de la tranche la plus haute".to_string(),
    }
}

/// What the family pays for a meal, step by step (a price list may start within the period),
/// each step with its bracket: "4,15 € jusqu'au 31/01/2017 (prix de la période) ; 2,80 € à
/// partir du 01/02/2017 (tranche de 501 à 900 €) – selon votre quotient familial : 650 €".
pub fn prices_markup(steps: &[PriceStep], quotient: Option<i32>) -> Markup {
    let by_bracket = steps.iter().any(|s| s.bracket.is_some());
    let many = steps.len() > 1;
    html! {
        @for (i, step) in steps.iter().enumerate() {
            @if i > 0 { " ; " }
            (euros(step.unit_price))
            @if many {
                @if i == 0 {
                    " jusqu'au " (date(step.to))
                } @else if i == steps.len() - 1 {
                    " à partir du " (date(step.from))
                } @else {
                    " du " (date(step.from)) " au " (date(step.to))
                }
            }
            @if by_bracket {
                @match &step.bracket {
                    Some(bracket) => { " (" (bracket_words(bracket)) ")" }
                    None => { " (prix de la période)" }
                }
            }
        }
        @if by_bracket { " – " (quotient_words(quotient)) }
    }
}

/// The period's rules as the first guide's step 5 lists them.
pub fn rules(restaurant: &str, period: &Period) -> Markup {
    let days: Vec<&str> = period
        .opening_days
        .iter()
        .map(|d| d.french_name())
        .collect();
    html! {
        dl class="rules" {
            dt { "Établissement" } dd { (restaurant) }
            dt { "Période" } dd { (period.activity) " – " (period.label) }
            dt { "Dates" } dd { "Du " (date(period.from)) " au " (date(period.to)) }
            dt { "Jours d'ouverture" } dd { (days.join(", ")) }
            dt { "Service" } dd {
                (period.service.label) " (" (period.service.start) " – " (period.service.end) ")"
            }
            dt { "Prix du repas" } dd { (prices_markup(&period.prices, period.quotient)) }
            dt { "Pour réserver" } dd { (period.booking_rule) "." }
            dt { "Pour annuler" } dd { (period.cancellation_rule) "." }
            dt { "Paiement" } dd { (payment_mode(&period.payment)) }
            @if let Some(open) = period.bookings_open_at {
                dt { "Ouverture des réservations" }
                dd { (open.format("%d/%m/%Y à %H:%M")) }
            }
            @if !period.closures.is_empty() {
                dt { "Fermetures" }
                dd {
                    ul {
                        @for c in &period.closures {
                            @if c.from == c.to {
                                li { (c.label) " : le " (date(c.from)) }
                            } @else {
                                li { (c.label) " : du " (date(c.from)) " au " (date(c.to)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(choice): ApiQuery<Choice>,
) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/reservation/nouvelle").await?;
    let Some(child_id) = choice.enfant else {
        let content = html! {
            p { "Les réservations se font enfant par enfant." }
            h2 { "Sélectionnez l'enfant à inscrire" }
            ul class="choices" {
                @for child in &context.family.children {
                    li {
                        a href={"/reservation/nouvelle?enfant=" (child.id)} {
                            (child.last_name) " " (child.first_name)
                        }
                    }
                }
            }
        };
        return Ok(ok(page(
            "Nouvelle réservation",
            Some(&context.nav()),
            content,
        )));
    };
    let child = child_of(&context, child_id)?;
    let establishments = establishments(&state, &caller).await?;
    let chosen = choice
        .restaurant
        .and_then(|id| establishments.iter().find(|e| e.id == id));
    let period = chosen.and_then(|e| {
        choice
            .periode
            .and_then(|id| e.periods.iter().find(|p| p.id == id))
    });
    let base = format!("/reservation/nouvelle?enfant={}", child.id);
    let content = html! {
        h2 { "Choix de l'établissement et de la période" }
        @if chosen.is_none() {
            p { "Commencez par sélectionner l'établissement dans lequel vous souhaitez réserver." }
        }
        ul class="choices" {
            @for e in &establishments {
                li {
                    @let href = format!("{base}&restaurant={}", e.id);
                    @if chosen.is_some_and(|c| c.id == e.id) {
                        a href=(href) aria-current="true" { (e.name) }
                        @if e.periods.is_empty() {
                            p { "Aucune période ouverte dans cet établissement." }
                        } @else {
                            p { "Choisissez maintenant une période d'ouverture :" }
                            ul {
                                @for p in &e.periods {
                                    li {
                                        @let href = format!("{base}&restaurant={}&periode={}", e.id, p.id);
                                        @if period.is_some_and(|chosen| chosen.id == p.id) {
                                            a href=(href) aria-current="true" { (p.activity) " – " (p.label) }
                                        } @else {
                                            a href=(href) { (p.activity) " – " (p.label) }
                                        }
                                    }
                                }
                            }
                        }
                    } @else {
                        a href=(href) { (e.name) }
                    }
                }
            }
        }
        @if let (Some(e), Some(p)) = (chosen, period) {
            section aria-labelledby="selection" class="card" {
                h2 id="selection" { "Votre sélection" }
                (rules(&e.name, p))
                p {
                    a class="button primary"
                        href={"/reservation/calendrier?enfant=" (child.id) "&periode=" (p.id)} {
                        "Continuer"
                    }
                }
            }
        }
        p { a href="/reservation/nouvelle" { "Retour au choix de l'enfant" } }
    };
    Ok(ok(page(
        &format!(
            "Création d'une réservation pour {} {}",
            child.first_name, child.last_name
        ),
        Some(&context.nav()),
        content,
    )))
}
