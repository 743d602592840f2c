//! The waiting list in the portal (issue 18, point 4): from a full day of the calendar (or the
//! full days a bulk choice could not book), a page that says the child's place in line and
//! asks before putting the child in line, or taking it off. The use cases are the API's
//! (`app::waitlist`), so the page refuses what the API refuses.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::NaiveDate;
use maud::html;
use uuid::Uuid;

use super::booking::{child_of, find_period};
use super::context::Context;
use crate::app::{waitlist, Cantine};
use crate::web::error::ApiError;
use crate::web::extract::Caller;
use crate::web::pages::error::{PortalError, PortalResult};
use crate::web::pages::format::day;
use crate::web::pages::layout::{csrf_field, ok, page, see_other};

pub const PATH: &str = "/liste-attente";

/// `enfant`, `periode` and the days (`jour`, one or more) of a query or a form.
struct Asked {
    child_id: Uuid,
    period_id: Uuid,
    days: Vec<NaiveDate>,
}

fn bad_form() -> PortalError {
    PortalError(ApiError::bad_request(
        "malformed_body",
        "the waiting list's form is incomplete",
    ))
}

fn asked(text: &str) -> PortalResult<Asked> {
    let pairs: Vec<(String, String)> = text
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<Uuid>().ok())
    };
    let days: Option<Vec<NaiveDate>> = pairs
        .iter()
        .filter(|(k, _)| k == "jour")
        .map(|(_, v)| v.parse().ok())
        .collect();
    let mut days = days.ok_or_else(bad_form)?;
    days.sort();
    days.dedup();
    if days.is_empty() {
        return Err(bad_form());
    }
    Ok(Asked {
        child_id: one("enfant").ok_or_else(bad_form)?,
        period_id: one("periode").ok_or_else(bad_form)?,
        days,
    })
}

/// The page: each asked day with the child's place in line, a form to join the days the child
/// does not wait for yet, and one to leave each day it waits for.
pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> PortalResult<Response> {
    let asked = asked(query.as_deref().unwrap_or(""))?;
    let context = Context::load(&state, &caller, PATH).await?;
    let child = child_of(&context, asked.child_id)?;
    let child_name = child.first_name.clone();
    let (restaurant, period) = find_period(&state, &caller, asked.period_id).await?;
    let entries = waitlist::of_family(&state, &caller).await?;
    let position = |d: NaiveDate| {
        entries
            .iter()
            .find(|e| e.child_id == asked.child_id && e.period_id == period.id && e.date == d)
            .map(|e| e.position)
    };
    let to_join: Vec<NaiveDate> = asked
        .days
        .iter()
        .copied()
        .filter(|d| position(*d).is_none())
        .collect();
    let calendar = format!(
        "/reservation/calendrier?enfant={}&periode={}&mois={}",
        asked.child_id,
        period.id,
        asked.days[0].format("%Y-%m")
    );
    let content = html! {
        p { "Enfant : " strong { (child_name) } " — " (restaurant) " / " (period.label) }
        p class="info" {
            "Un jour complet a une liste d'attente. Dès qu'une place se libère (une réservation "
            "expirée ou annulée, une capacité augmentée), elle est attribuée automatiquement au "
            "premier enfant de la liste, et la famille en est prévenue par courriel."
            @if matches!(period.payment, crate::domain::period::PaymentMode::Prepaid { .. }) {
                " La place est alors réservée en attente de paiement, avec sa propre heure limite."
            } @else {
                " Le repas est alors réservé, et facturé en fin de mois."
            }
        }
        ul class="plain" {
            @for d in &asked.days {
                li {
                    strong { (day(*d)) } " : "
                    @match position(*d) {
                        Some(n) => {
                            "En liste d'attente (position " (n) ")"
                            form method="post" action={(PATH) "/quitter"} class="actions" {
                                (csrf_field(&context.csrf))
                                input type="hidden" name="enfant" value=(asked.child_id);
                                input type="hidden" name="periode" value=(period.id);
                                input type="hidden" name="jour" value=(d);
                                button type="submit" class="danger" {
                                    "Quitter la liste d'attente" span class="visually-hidden" { " du " (day(*d)) }
                                }
                            }
                        }
                        None => { "pas en liste d'attente" }
                    }
                }
            }
        }
        @if !to_join.is_empty() {
            form method="post" action=(PATH) class="actions" {
                (csrf_field(&context.csrf))
                input type="hidden" name="enfant" value=(asked.child_id);
                input type="hidden" name="periode" value=(period.id);
                @for d in &to_join { input type="hidden" name="jour" value=(d); }
                a href=(calendar) { "Retour au planning" }
                " "
                button type="submit" class="primary" {
                    @if to_join.len() == 1 { "Mettre " (child_name) " en liste d'attente" }
                    @else { "Mettre " (child_name) " en liste d'attente pour ces " (to_join.len()) " jours" }
                }
            }
        } @else {
            p class="actions" { a class="button" href=(calendar) { "Retour au planning" } }
        }
    };
    Ok(ok(page("Liste d'attente", Some(&context.nav()), content)))
}

/// Puts the child in line for the days, then shows its places.
pub async fn join(
    State(state): State<Cantine>,
    caller: Caller,
    body: Bytes,
) -> PortalResult<Response> {
    let asked = asked(std::str::from_utf8(&body).unwrap_or(""))?;
    waitlist::join(
        &state,
        &caller,
        asked.child_id,
        asked.period_id,
        asked.days.clone(),
    )
    .await?;
    Ok(see_other(&back_to_page(&asked)))
}

/// Takes the child off the day's list, then back to the calendar.
pub async fn leave(
    State(state): State<Cantine>,
    caller: Caller,
    body: Bytes,
) -> PortalResult<Response> {
    let asked = asked(std::str::from_utf8(&body).unwrap_or(""))?;
    let date = asked.days[0];
    waitlist::leave(&state, &caller, asked.child_id, date).await?;
    Ok(see_other(&format!(
        "/reservation/calendrier?enfant={}&periode={}&mois={}",
        asked.child_id,
        asked.period_id,
        date.format("%Y-%m")
    )))
}

fn back_to_page(asked: &Asked) -> String {
    let mut path = format!(
        "{PATH}?enfant={}&periode={}",
        asked.child_id, asked.period_id
    );
    for d in &asked.days {
        path.push_str(&format!("&jour={d}"));
    }
    path
}

/// The address of the page for these full days of the child.
pub fn link(child_id: Uuid, period_id: Uuid, days: &[NaiveDate]) -> String {
    back_to_page(&Asked {
        child_id,
        period_id,
        days: days.to_vec(),
    })
}
