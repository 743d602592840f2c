//! `/gestion/cuisine/appel`: the kitchen's roll call of a restaurant for a day, per service: the
//! children's names, their meal option and whether their place is booked or still held; printable
//! (the browser's Print), and as CSV in the plain and the French spreadsheet format.

use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::context::StaffContext;
use super::error::StaffResult;
use super::kitchen;
use super::layout::page;
use crate::app::queries::roll_call::{self, RollCall, ServiceRoll};
use crate::app::Cantine;
use crate::domain::reservation::DayStatus;
use crate::web::csv_response::CsvStyle;
use crate::web::extract::{ApiPath, ApiQuery, Caller};
use crate::web::pages::format::day;
use crate::web::pages::layout::ok;
use crate::web::roll_call_csv::{roll_call_csv, status_french};

pub const PATH: &str = "/gestion/cuisine/appel";

#[derive(Deserialize)]
pub struct RollCallQuery {
    pub restaurant: Uuid,
    pub date: Option<NaiveDate>,
}

pub fn link(restaurant: Uuid, on: NaiveDate) -> String {
    format!("{PATH}?restaurant={restaurant}&date={on}")
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<RollCallQuery>,
) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, kitchen::PATH).await?;
    let on = query.date.unwrap_or_else(|| state.clock.paris_today());
    let roll = roll_call::roll_call(&state, query.restaurant, on, None).await?;
    let content = html! {
        p class="no-print" {
            a href=(format!("{}?date={on}&restaurant={}", kitchen::PATH, roll.restaurant_id)) {
                "← Effectifs du jour"
            }
        }
        ul class="actions no-print" {
            li { a href=(link(roll.restaurant_id, on - Duration::days(1))) { "← Jour précédent" } }
            li { a href=(link(roll.restaurant_id, on + Duration::days(1))) { "Jour suivant →" } }
        }
        p class="note no-print" {
            "Pour imprimer la liste, utilisez la commande « Imprimer » de votre navigateur (Ctrl+P)."
        }
        @if roll.services.is_empty() {
            p { "Aucun enfant n'est inscrit ce jour-là." }
        }
        @for service in &roll.services {
            (service_list(&roll, service))
        }
        ul class="actions no-print" {
            li {
                a href=(csv_link(&roll, "fr")) download {
                    "Télécharger la liste (CSV pour tableur français)"
                }
            }
            li {
                a href=(csv_link(&roll, "standard")) download { "Télécharger la liste (CSV standard)" }
            }
        }
    };
    Ok(ok(page(
        &format!("Liste d'appel – {} – {}", roll.restaurant, day(on)),
        Some(&context.nav()),
        content,
    )))
}

fn csv_link(roll: &RollCall, format: &str) -> String {
    format!(
        "/gestion/cuisine/{}/appel.csv?date={}&format={format}",
        roll.restaurant_id, roll.date
    )
}

fn service_list(roll: &RollCall, service: &ServiceRoll) -> Markup {
    let booked = service.count(DayStatus::Booked);
    let awaiting = service.count(DayStatus::AwaitingPayment);
    let unconfirmed = service.count(DayStatus::Requested);
    html! {
        section class="sheet" aria-label=(format!("Service {}", service.service)) {
            h2 { (service.service) }
            p {
                strong { (booked) " repas " (plural(booked, "réservé", "réservés")) }
                @if awaiting > 0 { ", " (awaiting) " en attente de paiement" }
                @if unconfirmed > 0 {
                    ", " (unconfirmed) " " (plural(unconfirmed, "demande non confirmée", "demandes non confirmées"))
                }
                "."
            }
            div class="scroll" {
                table class="stack roll-call" {
                    caption { "Enfants inscrits le " (day(roll.date)) " – " (roll.restaurant) " – " (service.service) }
                    thead {
                        tr {
                            th scope="col" { "Nom" }
                            th scope="col" { "Prénom" }
                            th scope="col" { "Menu" }
                            th scope="col" { "Place" }
                            th scope="col" class="print-only" { "Présent" }
                        }
                    }
                    tbody {
                        @for diner in &service.diners {
                            tr {
                                th scope="row" data-label="Nom" { (diner.last_name) }
                                td data-label="Prénom" { (diner.first_name) }
                                td data-label="Menu" { (diner.meal_option_french()) }
                                td data-label="Place" { (status_french(diner.status)) }
                                td class="print-only" data-label="Présent" { "☐" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n > 1 {
        many
    } else {
        one
    }
}

#[derive(Deserialize)]
pub struct CsvQuery {
    pub date: Option<NaiveDate>,
    pub format: Option<String>,
}

pub async fn csv(
    State(state): State<Cantine>,
    ApiPath(restaurant_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<CsvQuery>,
) -> StaffResult<Response> {
    let style = CsvStyle::from_param(query.format.as_deref())?;
    let on = query.date.unwrap_or_else(|| state.clock.paris_today());
    let roll = roll_call::roll_call(&state, restaurant_id, on, None).await?;
    Ok(roll_call_csv(style, &roll)?)
}
