//! One reservation: the recap before confirming ("En attente de confirmation", the estimate),
//! then the confirmation ("en attente de paiement", pay before 15:38), then its state. Read
//! through the history query, confirmed and cancelled through the reservation use cases.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use maud::{html, Markup};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::booking::find_period;
use super::context::Context;
use crate::app::queries::history::{self, ReservationDay, ReservationDetail};
use crate::app::{reservations, Cantine};
use crate::domain::period::{DayRefusal, PaymentMode};
use crate::domain::reservation::ReservationStatus;
use crate::web::extract::{ApiPath, Caller};
use crate::web::pages::error::PortalResult;
use crate::web::pages::format::{
    date, date_time, day, day_state, estimate, euros, reservation_state, service, time,
};
use crate::web::pages::guard::form_field;
use crate::web::pages::layout::{csrf_field, ok, page, see_other};

/// The estimate, one line per unit price (a price list may change within a reservation).
fn invoice_table(detail: &ReservationDetail, caption: &str) -> Markup {
    let mut by_price: BTreeMap<Decimal, Vec<&ReservationDay>> = BTreeMap::new();
    for d in detail.active_days() {
        by_price.entry(d.unit_price).or_default().push(d);
    }
    let total: Decimal = by_price
        .iter()
        .map(|(price, days)| *price * Decimal::from(days.len()))
        .sum();
    html! {
        // On a phone the estimate is one card per line (`stack`): nothing to scroll sideways.
        div class="scroll" {
            table class="invoice stack" {
                caption { (caption) " – " (detail.item.period) }
                thead {
                    tr {
                        th scope="col" { "Désignation" }
                        th scope="col" { "Calcul" }
                        th scope="col" { "Montant" }
                    }
                }
                tbody {
                    @for (price, days) in &by_price {
                        tr {
                            td data-label="Désignation" class="designation" {
                                "Repas "
                                @for d in days { (format!("{:02}/{:02} ", d.date.day(), d.date.month())) }
                            }
                            td data-label="Calcul" class="estimate" { (estimate(days.len(), *price)) }
                            td data-label="Montant" class="amount" { (euros(*price * Decimal::from(days.len()))) }
                        }
                    }
                }
                tfoot {
                    tr { th scope="row" colspan="2" { "Total" } td data-label="Total" class="amount" { strong { (euros(total)) } } }
                }
            }
        }
    }
}

/// Each day with the period's own service (`DÉJEUNER (11:45 – 13:30)`), as the guide's recap.
fn days_table(detail: &ReservationDetail, service_name: &str) -> Markup {
    html! {
        div class="scroll" {
            table {
                caption { "Jours demandés" }
                thead { tr { th scope="col" { "Date" } th scope="col" { "Votre demande" } th scope="col" { "État" } } }
                tbody {
                    @for d in &detail.days {
                        tr { td { (day(d.date)) } td { (service_name) } td { (day_state(d.status)) } }
                    }
                }
            }
        }
    }
}

/// The days the request could not book, with why, from the request's own event.
pub(super) async fn refused_days(
    state: &Cantine,
    id: Uuid,
) -> PortalResult<Vec<(NaiveDate, DayRefusal)>> {
    Ok(reservations::refused_days(state, id).await?)
}

/// The refusals as list items, one a reason: a lone day as the guide writes it ("Non réservé :
/// 16/01/2017 - Date limite de réservation dépassée"), several as their count and span, the
/// days folded away (a whole year's choice refuses dozens of past or closed days).
pub(super) fn refusal_items(refused: &[(NaiveDate, DayRefusal)]) -> Markup {
    let mut groups: Vec<(DayRefusal, Vec<NaiveDate>)> = Vec::new();
    for (d, reason) in refused {
        match groups.iter_mut().find(|(r, _)| r == reason) {
            Some((_, days)) => days.push(*d),
            None => groups.push((*reason, vec![*d])),
        }
    }
    html! {
        @for (reason, days) in &groups {
            li class="refused" {
                span aria-hidden="true" { "× " }
                @if let [only] = days.as_slice() {
                    (reservations::refused_line(*only, *reason))
                } @else {
                    (days.len()) " jours non réservés : " (reason.french())
                    @if let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) {
                        " (du " (date(*first)) " au " (date(*last)) ")"
                    }
                    details {
                        summary { "Voir les jours" span class="visually-hidden" { " : " (reason.french()) } }
                        p { @for (i, d) in days.iter().enumerate() { @if i > 0 { ", " } (date(*d)) } }
                    }
                }
            }
        }
    }
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/historique").await?;
    let detail = history::detail(&state, &caller, id).await?;
    let item = &detail.item;
    let (_, period) = find_period(&state, &caller, item.period_id).await?;
    let service_name = service(&period.service);
    let billed_later = matches!(period.payment, PaymentMode::Postpaid);
    let (sign, words) = reservation_state(item.status);
    let total = euros(item.total);
    let heading = html! {
        dl class="summary" {
            dt { "Enfant" } dd { (item.child) }
            dt { "Établissement / Période" } dd { (item.establishment) " / " (item.period) }
            dt { "N° de la réservation" } dd { strong { (item.number) } " (du " (date_time(item.created_at)) ")" }
            dt { "État de la réservation" } dd { span aria-hidden="true" { (sign) } " " strong { (words) } }
        }
    };
    let content = match item.status {
        ReservationStatus::Requested => {
            let refused = refused_days(&state, id).await?;
            let calendar = format!(
                "/reservation/calendrier?enfant={}&periode={}&mois={}",
                item.child_id,
                item.period_id,
                item.first_day.format("%Y-%m")
            );
            html! {
                p class="info" {
                    @if billed_later {
                        "Les repas demandés seront réservés dès votre confirmation, puis facturés en fin de mois : "
                        "rien n'est à payer en ligne. "
                    } @else {
                        "Les places demandées ne seront réservées définitivement qu'après le paiement en ligne. "
                    }
                    "Merci de vérifier les informations saisies avant de confirmer votre réservation."
                }
                h2 { "Récapitulatif de votre demande" }
                (heading)
                (days_table(&detail, &service_name))
                @if !refused.is_empty() {
                    h3 { "Jours non réservés" }
                    ul class="plain refusals" { (refusal_items(&refused)) }
                    @let full: Vec<NaiveDate> = refused.iter().filter(|(_, r)| *r == DayRefusal::Full).map(|(d, _)| *d).collect();
                    @if !full.is_empty() {
                        p class="actions" {
                            a class="button" href=(super::waitlist::link(item.child_id, item.period_id, &full)) {
                                @if full.len() == 1 { "Mettre le jour complet en liste d'attente" }
                                @else { "Mettre les " (full.len()) " jours complets en liste d'attente" }
                            }
                        }
                    }
                }
                (invoice_table(&detail, "Estimation de votre facture"))
                form method="post" action={"/reservations/" (id) "/confirmer"} class="actions" {
                    (csrf_field(&context.csrf))
                    a href=(calendar) { "Retour au planning" }
                    " "
                    button type="submit" class="primary" { "Confirmer la réservation" }
                }
                p class="note" { "Sans confirmation, la demande libère ses places au bout d'une heure." }
                (cancel_link(id, "Abandonner cette demande"))
            }
        }
        ReservationStatus::AwaitingPayment => html! {
            div class="info" role="status" {
                p { "Votre demande de réservation a été enregistrée, elle est désormais en attente de paiement. "
                    "Le montant de votre réservation s'élève à " strong { (total) } "." }
                @if let Some(deadline) = item.pay_before {
                    p { "Vous devez maintenant procéder au paiement en ligne afin de valider votre réservation avant "
                        strong { (time(deadline)) } " (le " (date(deadline.with_timezone(&chrono_tz::Europe::Paris).date_naive())) ")." }
                }
                p { "Sans paiement de votre part, cette réservation sera automatiquement annulée." }
            }
            h2 { "Demande de réservation enregistrée" }
            (heading)
            (days_table(&detail, &service_name))
            (invoice_table(&detail, "Détail de votre facture"))
            p class="actions" {
                a href="/" { "Retour au compte" } " "
                a href="/reservation/nouvelle" { "Nouvelle réservation" } " "
                a class="button primary" href="/panier" { "Accéder à mon panier" }
            }
            (cancel_link(id, "Annuler cette réservation"))
        },
        _ => html! {
            (heading)
            (days_table(&detail, &service_name))
            (invoice_table(&detail, "Détail de la facture"))
            p class="actions" { a href="/historique" { "Retour à mes réservations" } }
        },
    };
    Ok(ok(page(
        &format!("Réservation n° {}", item.number),
        Some(&context.nav()),
        content,
    )))
}

/// The question before cancelling (no script runs in the portal, so it is a page): what the
/// reservation holds, what cancelling it does, and "Oui" as a form, "Non" as a link back.
pub async fn cancel_page(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/historique").await?;
    let detail = history::detail(&state, &caller, id).await?;
    let item = &detail.item;
    let back = format!("/reservations/{id}");
    let days: Vec<&ReservationDay> = detail.active_days().collect();
    let held: Decimal = days.iter().map(|d| d.unit_price).sum();
    let request = item.status == ReservationStatus::Requested;
    let (title, question, yes, no) = if request {
        (
            format!("Abandonner la demande n° {}", item.number),
            "Voulez-vous vraiment abandonner cette demande ? Ses places seront libérées.",
            "Oui, abandonner la demande",
            "Non, garder la demande",
        )
    } else {
        (
            format!("Annuler la réservation n° {}", item.number),
            "Voulez-vous vraiment annuler cette réservation ?",
            "Oui, annuler la réservation",
            "Non, garder la réservation",
        )
    };
    let content = html! {
        @if days.is_empty() {
            p class="alert" role="alert" { "Cette réservation n'a plus de jour à annuler." }
            p class="actions" { a class="button primary" href=(back) { "Retour à la réservation" } }
        } @else {
            p role="alert" class="alert" { (question) }
            dl class="summary" {
                dt { "Enfant" } dd { (item.child) }
                dt { "Établissement / Période" } dd { (item.establishment) " / " (item.period) }
                dt { "Jours" } dd { @for (i, d) in days.iter().enumerate() { @if i > 0 { ", " } (day(d.date)) } }
                dt { "Montant" } dd { (euros(held)) }
            }
            @if item.status == ReservationStatus::Paid {
                p class="note" { "Les jours payés encore annulables vous sont rendus en avoir, déduit de votre prochain paiement ; ceux dont le délai d'annulation est dépassé restent dus." }
            }
            form method="post" action={"/reservations/" (id) "/annuler"} class="actions" {
                (csrf_field(&context.csrf))
                input type="hidden" name="confirmation" value="oui";
                a href=(back) { (no) }
                " "
                button type="submit" class="danger" { (yes) }
            }
        }
    };
    Ok(ok(page(&title, Some(&context.nav()), content)))
}

/// Cancels every day still held (paid days before the cancellation cut-off become a credit
/// note there), once the question was answered; without the answer, the question.
pub async fn cancel(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> PortalResult<Response> {
    if form_field(&body, "confirmation").as_deref() != Some("oui") {
        // Still the family's own reservation (404 otherwise) before anything is said of it.
        history::detail(&state, &caller, id).await?;
        return Ok(see_other(&format!("/reservations/{id}/annuler")));
    }
    let _cancelled = reservations::cancel(&state, &caller, id, None).await?;
    Ok(see_other(&format!("/reservations/{id}")))
}

/// The way to the question before cancelling.
fn cancel_link(id: Uuid, label: &str) -> Markup {
    html! {
        p class="actions" {
            a class="button" href={"/reservations/" (id) "/annuler"} { (label) }
        }
    }
}

pub async fn confirm(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> PortalResult<Response> {
    let _confirmed = reservations::confirm(&state, &caller, id).await?;
    Ok(see_other(&format!("/reservations/{id}")))
}
