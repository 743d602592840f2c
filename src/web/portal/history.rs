//! "Mes réservations": the first guide's history table (N°, enfant, établissement / période,
//! created and from–to, state ✓ ✗ ?), 5 a page, searchable by number or child, read through the
//! history query.

use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::context::Context;
use crate::app::queries::history::{self, History, HistoryItem, HistoryQuery};
use crate::app::Cantine;
use crate::domain::reservation::ReservationStatus;
use crate::web::extract::{ApiQuery, Caller};
use crate::web::pages::error::PortalResult;
use crate::web::pages::format::{date, date_time, euros, reservation_state};
use crate::web::pages::layout::{ok, page};

pub const PER_PAGE: u32 = 5;

#[derive(Deserialize)]
pub struct Search {
    pub page: Option<u32>,
    pub q: Option<String>,
}

pub async fn history_of(
    state: &Cantine,
    caller: &Caller,
    page: u32,
    q: Option<String>,
) -> PortalResult<History> {
    let query = HistoryQuery {
        page,
        per_page: PER_PAGE,
        child_id: None,
        search: q,
        status: None,
    };
    Ok(history::history(state, caller, query).await?)
}

pub fn table(items: &[HistoryItem], caption: &str) -> Markup {
    html! {
        div class="scroll" {
            table class="history stack" {
                caption { (caption) }
                thead {
                    tr {
                        th scope="col" { "N°" }
                        th scope="col" { "Enfant" }
                        th scope="col" { "Établissement / Période" }
                        th scope="col" { "Créée le … Réservation du … au …" }
                        th scope="col" { "Montant" }
                        th scope="col" { "État" }
                        th scope="col" { "Voir" }
                    }
                }
                tbody {
                    @for item in items {
                        @let (sign, words) = reservation_state(item.status);
                        tr {
                            td data-label="N°" { (item.number) }
                            td data-label="Enfant" { (item.child) }
                            td data-label="Établissement / Période" { (item.establishment) " / " (item.period) }
                            td data-label="Dates" {
                                span {
                                    (date_time(item.created_at)) br;
                                    "Du " (date(item.first_day)) " au " (date(item.last_day))
                                }
                            }
                            td data-label="Montant" { (euros(item.total)) }
                            td data-label="État" class={"state state-" (item.status.as_str())} {
                                span { span aria-hidden="true" { (sign) } " " (words) }
                            }
                            td data-label="Voir" {
                                a href={"/reservations/" (item.id)} {
                                    "Voir " span class="visually-hidden" { "la réservation n° " (item.number) }
                                }
                                @if item.status == ReservationStatus::Requested {
                                    br;
                                    a href={"/reservations/" (item.id)} {
                                        "Confirmer ou abandonner" span class="visually-hidden" { " la demande n° " (item.number) }
                                    }
                                }
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
    ApiQuery(search): ApiQuery<Search>,
) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/historique").await?;
    let page_number = search.page.unwrap_or(1).max(1);
    let q = search.q.filter(|q| !q.trim().is_empty());
    let history = history_of(&state, &caller, page_number, q.clone()).await?;
    let first = (page_number - 1) * PER_PAGE + 1;
    let last = first - 1 + history.items.len() as u32;
    let pages = (history.total as u32).div_ceil(PER_PAGE).max(1);
    let query = q.as_deref().unwrap_or("");
    let link = |page: u32| -> String {
        let mut href = format!("/historique?page={page}");
        if !query.is_empty() {
            href.push_str("&q=");
            href.push_str(&urlencode(query));
        }
        href
    };
    let content = html! {
        form method="get" action="/historique" class="search" role="search" {
            label for="q" { "Rechercher (n° de réservation ou nom de l'enfant)" }
            input id="q" name="q" type="search" value=(query);
            button type="submit" { "Rechercher" }
        }
        @if history.items.is_empty() {
            p { "Aucune réservation ne correspond." }
        } @else {
            (table(&history.items, "Historique des réservations"))
            p class="count" {
                "Afficher " (PER_PAGE) " éléments / page (de " (first) " à " (last) " sur "
                (history.total) " éléments)"
            }
        }
        @if pages > 1 {
            nav aria-label="Pages de l'historique" class="pages" {
                @if page_number > 1 {
                    a href=(link(page_number - 1)) { "← Page précédente" }
                }
                span { "Page " (page_number) " sur " (pages) }
                @if page_number < pages {
                    a href=(link(page_number + 1)) { "Page suivante →" }
                }
            }
        }
        p { a class="button" href="/reservation/nouvelle" { "+ Nouvelle réservation" } }
    };
    Ok(ok(page("Mes réservations", Some(&context.nav()), content)))
}

/// Enough of the form encoding for a search text in a link.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
