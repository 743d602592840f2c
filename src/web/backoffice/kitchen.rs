//! `/gestion/cuisine`: the day's headcount per restaurant, service and meal option, as the API's
//! kitchen route gives it (`app::queries::headcounts`), on a page that prints as a sheet for the
//! kitchen; and its CSV, the same file as the API's export.

use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::HashMap;
use uuid::Uuid;

use super::context::StaffContext;
use super::day_filter::{self, day_link, DayQuery};
use super::error::StaffResult;
use super::layout::page;
use crate::app::queries::day_range::DayRange;
use crate::app::queries::headcounts::{self, Headcount};
use crate::app::queries::roll_call;
use crate::app::Cantine;
use crate::domain::meal_option::MealOption;
use crate::domain::reservation::DayStatus;
use crate::web::csv_response::{headcounts_csv, CsvStyle};
use crate::web::extract::{ApiPath, ApiQuery, Caller};
use crate::web::pages::format::{date, day};
use crate::web::pages::layout::ok;

pub const PATH: &str = "/gestion/cuisine";

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<DayQuery>,
) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, PATH).await?;
    let today = state.clock.paris_today();
    let choice = query.choice(today);
    let on = choice.on;
    let headcounts::DaySheets {
        restaurants,
        chosen,
        sheets,
    } = headcounts::day_sheets(&state, on, choice.restaurant).await?;
    let names: Vec<(Uuid, &str)> = restaurants
        .iter()
        .map(|r| (r.id, r.name.as_str()))
        .collect();
    let link = |on: NaiveDate| day_link(PATH, on, chosen);
    // The headcount holds a request not yet confirmed with the places awaiting payment; the
    // roll call tells them apart, so that the sheet says which is which.
    let mut unconfirmed = Vec::new();
    for (restaurant, _) in &sheets {
        let roll = roll_call::roll_call(&state, restaurant.id, on, None).await?;
        unconfirmed.push(
            roll.services
                .iter()
                .map(|s| (s.service.clone(), s.count(DayStatus::Requested) as i64))
                .collect::<HashMap<String, i64>>(),
        );
    }
    let content = html! {
        (day_filter::form(PATH, &choice, &names, chosen))
        ul class="actions no-print" {
            li { a href=(link(on - Duration::days(1))) { "← Jour précédent" } }
            li { a href=(link(on + Duration::days(1))) { "Jour suivant →" } }
            @if on != today {
                li { a href=(link(today)) { "Aujourd'hui" } }
            }
        }
        p class="note no-print" {
            "Pour imprimer la feuille du jour, utilisez la commande « Imprimer » de votre navigateur "
            "(Ctrl+P) : le menu et les filtres ne sont pas imprimés."
        }
        @if restaurants.is_empty() {
            p { "Aucun restaurant n'est encore enregistré." }
        }
        @for ((restaurant, rows), unconfirmed) in sheets.iter().zip(&unconfirmed) {
            (sheet(&restaurant.name, restaurant.id, on, rows, unconfirmed))
        }
    };
    Ok(ok(page(
        &format!("Effectifs cuisine du {}", day(on)),
        Some(&context.nav()),
        content,
    )))
}

fn sheet(
    name: &str,
    restaurant_id: Uuid,
    on: NaiveDate,
    rows: &[Headcount],
    unconfirmed: &HashMap<String, i64>,
) -> Markup {
    let heading = format!("restaurant-{restaurant_id}");
    html! {
        section class="sheet" aria-labelledby=(heading) {
            h2 id=(heading) { (name) }
            @if rows.is_empty() {
                p { "Pas de service ce jour-là." }
            } @else {
                div class="scroll" {
                    table class="stack" {
                        caption { "Repas à préparer le " (day(on)) " – " (name) }
                        thead {
                            tr {
                                th scope="col" { "Service" }
                                @for option in MealOption::ALL {
                                    th scope="col" class="number" { (option.french()) }
                                }
                                th scope="col" class="number" { "Total à préparer" }
                                th scope="col" class="number" { "En attente de paiement" }
                                th scope="col" class="number" { "Demandes non confirmées" }
                                th scope="col" class="number" { "Capacité" }
                            }
                        }
                        tbody {
                            @for row in rows {
                                tr {
                                    th scope="row" data-label="Service" { (row.service) }
                                    @for option in MealOption::ALL {
                                        td class="number" data-label=(option.french()) {
                                            (row.booked.get(option))
                                        }
                                    }
                                    td class="number" data-label="Total à préparer" { strong { (row.booked.total()) } }
                                    @let requested = unconfirmed.get(&row.service).copied().unwrap_or(0);
                                    td class="number" data-label="En attente de paiement" { (row.awaiting_payment.total() - requested) }
                                    td class="number" data-label="Demandes non confirmées" { (requested) }
                                    td class="number" data-label="Capacité" { (row.capacity) }
                                }
                            }
                        }
                    }
                }
                p class="note" {
                    "Les repas en attente de paiement ou de confirmation ne sont pas comptés dans le "
                    "total : leur place est retenue jusqu'au paiement (ou à la confirmation de la "
                    "demande par la famille) ou à l'expiration."
                }
            }
            p class="no-print" {
                a href=(super::roll_call::link(restaurant_id, on)) {
                    "Liste d'appel de " (name) " (noms des enfants)"
                }
            }
            p class="no-print" {
                a href=(format!("{PATH}/{restaurant_id}/export?date={on}&format=fr")) download {
                    "Télécharger les effectifs de " (name) " (CSV pour tableur français, deux semaines à partir du " (date(on)) ")"
                }
                " · "
                a href=(format!("{PATH}/{restaurant_id}/export?date={on}")) download {
                    "CSV standard"
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ExportQuery {
    pub date: Option<NaiveDate>,
    /// `fr`: for French spreadsheets (`;`, French headers).
    pub format: Option<String>,
}

/// The restaurant's headcounts for two weeks from the chosen day, the same CSV as the API's.
pub async fn export(
    State(state): State<Cantine>,
    ApiPath(restaurant_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> StaffResult<Response> {
    let style = CsvStyle::from_param(query.format.as_deref())?;
    let range = DayRange::asked(&state, query.date, None)?;
    let rows = headcounts::headcounts(&state, restaurant_id, range).await?;
    Ok(headcounts_csv(style, range, &rows)?)
}
