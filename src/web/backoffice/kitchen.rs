//! `/gestion/cuisine`: the day's headcount per restaurant, service and meal option, as the API's
//! kitchen route gives it (`api::kitchen::headcount_rows`), on a page that prints as a sheet for
//! the kitchen; and its CSV, the API's own export.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use chrono_tz::Europe::Paris;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::context::StaffContext;
use super::error::StaffResult;
use super::layout::page;
use crate::app::Cantine;
use crate::db;
use crate::web::api::admin::MEAL_OPTIONS;
use crate::web::api::kitchen::{self, Headcount, RangeQuery};
use crate::web::error::ApiError;
use crate::web::extract::{ApiPath, ApiQuery, Caller};
use crate::web::pages::format::{date, day};
use crate::web::pages::layout::ok;

pub const PATH: &str = "/gestion/cuisine";

#[derive(Deserialize)]
pub struct KitchenQuery {
    pub date: Option<String>,
    pub restaurant: Option<String>,
}

/// The menus in the kitchen's words.
pub fn meal_option_label(option: &str) -> &str {
    match option {
        "standard" => "Standard",
        "vegetarian" => "Végétarien",
        "no_pork" => "Sans porc",
        other => other,
    }
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<KitchenQuery>,
) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, PATH).await?;
    let today = state.clock.now().with_timezone(&Paris).date_naive();
    let asked = query.date.as_deref().filter(|d| !d.is_empty());
    let parsed = asked.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d"));
    let date_error = matches!(parsed, Some(Err(_)));
    let on = parsed.and_then(Result::ok).unwrap_or(today);
    let restaurants = db::reference::restaurants(&state.pool, state.organisation.id).await?;
    let chosen: Option<Uuid> = query
        .restaurant
        .as_deref()
        .and_then(|r| Uuid::parse_str(r).ok())
        .filter(|id| restaurants.iter().any(|r| r.id == *id));
    let mut sheets = Vec::new();
    for restaurant in restaurants
        .iter()
        .filter(|r| chosen.is_none_or(|id| id == r.id))
    {
        let rows = kitchen::headcount_rows(&state, restaurant.id, on, on).await?;
        sheets.push((restaurant, rows));
    }
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
                                @for option in MEAL_OPTIONS {
                                    th scope="col" class="number" { (meal_option_label(option)) }
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
                                    @for option in MEAL_OPTIONS {
                                        td class="number" data-label=(meal_option_label(option)) {
                                            (row.by_meal_option.get(option).copied().unwrap_or(0))
                                        }
                                    }
                                    td class="number" data-label="Total à préparer" { strong { (row.booked) } }
                                    td class="number" data-label="En attente de paiement" { (row.awaiting_payment) }
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

/// The API's CSV of the restaurant's headcounts, for two weeks from the chosen day.
pub async fn export(
    State(state): State<Cantine>,
    ApiPath(restaurant_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> StaffResult<Response> {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static("text/csv"));
    let range = RangeQuery {
        from: query.date,
        to: None,
    };
    kitchen::headcounts(
        State(state),
        ApiPath(restaurant_id),
        ApiQuery(range),
        headers,
    )
    .await
    .map_err(|e: ApiError| e.into())
}
