//! `/gestion/cuisine`: the day's headcount per restaurant, service and meal option, as the API's
//! kitchen route gives it (`app::queries::headcounts`), on a page that prints as a sheet for the
//! kitchen; and its CSV, the same file as the API's export.

use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::context::StaffContext;
use super::error::StaffResult;
use super::layout::page;
use crate::app::queries::day_range::DayRange;
use crate::app::queries::headcounts::{self, Headcount};
use crate::app::Cantine;
use crate::domain::meal_option::MealOption;
use crate::web::csv_response::headcounts_csv;
use crate::web::extract::{ApiPath, ApiQuery, Caller};
use crate::web::pages::format::{date, day};
use crate::web::pages::layout::ok;

pub const PATH: &str = "/gestion/cuisine";

#[derive(Deserialize)]
pub struct KitchenQuery {
    pub date: Option<String>,
    pub restaurant: Option<String>,
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<KitchenQuery>,
) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, PATH).await?;
    let today = state.clock.paris_today();
    let asked = query.date.as_deref().filter(|d| !d.is_empty());
    let parsed = asked.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d"));
    let date_error = matches!(parsed, Some(Err(_)));
    let on = parsed.and_then(Result::ok).unwrap_or(today);
    let asked_restaurant = query
        .restaurant
        .as_deref()
        .and_then(|r| Uuid::parse_str(r).ok());
    let headcounts::DaySheets {
        restaurants,
        chosen,
        sheets,
    } = headcounts::day_sheets(&state, on, asked_restaurant).await?;
    let chosen_text = chosen.map(|id| id.to_string()).unwrap_or_default();
    let content = html! {
        form class="filters" method="get" action=(PATH) {
            p {
                label for="date" { "Jour" }
                input id="date" name="date" type="date" value=(on.to_string())
                    aria-describedby=[date_error.then_some("date-erreur")];
                @if date_error {
                    span id="date-erreur" class="field-error" { " Date invalide : écrivez-la jj/mm/aaaa. Voici le " (date(on)) "." }
                }
            }
            p {
                label for="restaurant" { "Restaurant" }
                select id="restaurant" name="restaurant" {
                    option value="" selected[chosen.is_none()] { "Tous les restaurants" }
                    @for r in &restaurants {
                        option value=(r.id) selected[chosen == Some(r.id)] { (r.name) }
                    }
                }
            }
            p { button type="submit" class="primary" { "Afficher" } }
        }
        ul class="actions no-print" {
            li { a href=(link(on - Duration::days(1), &chosen_text)) { "← Jour précédent" } }
            li { a href=(link(on + Duration::days(1), &chosen_text)) { "Jour suivant →" } }
            @if on != today {
                li { a href=(link(today, &chosen_text)) { "Aujourd'hui" } }
            }
        }
        p class="note no-print" {
            "Pour imprimer la feuille du jour, utilisez la commande « Imprimer » de votre navigateur "
            "(Ctrl+P) : le menu et les filtres ne sont pas imprimés."
        }
        @if restaurants.is_empty() {
            p { "Aucun restaurant n'est encore enregistré." }
        }
        @for (restaurant, rows) in &sheets {
            (sheet(&restaurant.name, restaurant.id, on, rows))
        }
    };
    Ok(ok(page(
        &format!("Effectifs cuisine du {}", day(on)),
        Some(&context.nav()),
        content,
    )))
}

fn link(on: NaiveDate, restaurant: &str) -> String {
    format!("{PATH}?date={on}&restaurant={restaurant}")
}

fn sheet(name: &str, restaurant_id: Uuid, on: NaiveDate, rows: &[Headcount]) -> Markup {
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
                                    td class="number" data-label="En attente de paiement" { (row.awaiting_payment.total()) }
                                    td class="number" data-label="Capacité" { (row.capacity) }
                                }
                            }
                        }
                    }
                }
                p class="note" {
                    "Les repas en attente de paiement ne sont pas comptés dans le total : leur place est "
                    "retenue jusqu'au paiement ou à l'expiration."
                }
            }
            p class="no-print" {
                a href=(format!("{PATH}/{restaurant_id}/export?date={on}")) download {
                    "Télécharger les effectifs de " (name) " (CSV, deux semaines à partir du " (date(on)) ")"
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ExportQuery {
    pub date: Option<NaiveDate>,
}

/// The restaurant's headcounts for two weeks from the chosen day, the same CSV as the API's.
pub async fn export(
    State(state): State<Cantine>,
    ApiPath(restaurant_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> StaffResult<Response> {
    let range = DayRange::asked(&state, query.date, None)?;
    let rows = headcounts::headcounts(&state, restaurant_id, range).await?;
    Ok(headcounts_csv(range, &rows)?)
}
