//! `/gestion/attente`: a day's waiting lists per restaurant and service, each child with its
//! place in line and since when it waits (administrators and kitchens, read-only). The
//! kitchen's headcount does not count them: a child in line has no meal until a place is
//! offered.

use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use maud::html;

use super::context::StaffContext;
use super::day_filter::{self, day_link, DayQuery};
use super::error::StaffResult;
use super::layout::page;
use crate::app::{administration, waitlist, Cantine};
use crate::web::extract::{ApiQuery, Caller};
use crate::web::pages::format::{date_time, day};
use crate::web::pages::layout::ok;

pub const PATH: &str = "/gestion/attente";

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<DayQuery>,
) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, PATH).await?;
    let today = state.clock.paris_today();
    let choice = query.choice(today);
    let (on, chosen) = (choice.on, choice.restaurant);
    let restaurants = administration::restaurants::list(&state).await?;
    let entries = waitlist::of_day(&state, on, chosen).await?;
    let mut lists: Vec<(String, String, Vec<&waitlist::Entry>)> = Vec::new();
    for e in &entries {
        match lists.last_mut() {
            Some((r, s, list)) if *r == e.restaurant_name && *s == e.service => list.push(e),
            _ => lists.push((e.restaurant_name.clone(), e.service.clone(), vec![e])),
        }
    }
    let names: Vec<(uuid::Uuid, &str)> = restaurants
        .iter()
        .map(|r| (r.id, r.name.as_str()))
        .collect();
    let link = |d: NaiveDate| day_link(PATH, d, chosen);
    let content = html! {
        (day_filter::form(PATH, &choice, &names, chosen))
        ul class="actions" {
            li { a href=(link(on - Duration::days(1))) { "← Jour précédent" } }
            li { a href=(link(on + Duration::days(1))) { "Jour suivant →" } }
        }
        p class="note" {
            "Une place libérée ce jour-là (réservation expirée ou annulée, capacité augmentée) est "
            "attribuée automatiquement au premier de la liste. Les enfants en attente ne comptent "
            "pas dans les effectifs de la cuisine."
        }
        @if lists.is_empty() {
            p role="status" { "Aucune liste d'attente le " (day(on)) "." }
        }
        @for (restaurant, service, list) in &lists {
            section class="card" {
                h2 { (restaurant) " — " (service) " : " (list.len()) " enfant" @if list.len() > 1 { "s" } " en attente" }
                div class="scroll" {
                    table class="stack" {
                        caption class="visually-hidden" { "Liste d'attente de " (restaurant) ", " (service) ", " (day(on)) }
                        thead { tr { th scope="col" { "Position" } th scope="col" { "Enfant" } th scope="col" { "Inscrit le" } } }
                        tbody {
                            @for e in list {
                                tr {
                                    td data-label="Position" { (e.position) }
                                    td data-label="Enfant" { (e.child_first_name) " " (e.child_last_name) }
                                    td data-label="Inscrit le" { (date_time(e.joined_at)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ok(page(
        &format!("Listes d'attente du {}", day(on)),
        Some(&context.nav()),
        content,
    )))
}
