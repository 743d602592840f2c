//! One reservation: the recap before confirming ("En attente de confirmation", the estimate),
//! then the confirmation ("en attente de paiement", pay before 15:38), then its state. Read
//! through the history query, confirmed and cancelled through the reservation use cases.

use axum::extract::State;
use axum::response::Response;
use chrono::Datelike;
use maud::{html, Markup};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::context::Context;
use crate::app::queries::history::{self, ReservationDay, ReservationDetail};
use crate::app::{reservations, Cantine};
use crate::domain::reservation::ReservationStatus;
use crate::web::extract::{ApiPath, Caller};
use crate::web::pages::error::PortalResult;
use crate::web::pages::format::{
    date, date_time, day, day_state, estimate, euros, reservation_state, time,
};
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
        div class="scroll" {
            table class="invoice" {
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
                            td {
                                "Repas "
                                @for d in days { (format!("{:02}/{:02} ", d.date.day(), d.date.month())) }
                            }
                            td class="estimate" { (estimate(days.len(), *price)) }
                            td class="amount" { (euros(*price * Decimal::from(days.len()))) }
                        }
                    }
                }
                tfoot {
                    tr { th scope="row" colspan="2" { "Total" } td class="amount" { strong { (euros(total)) } } }
                }
            }
        }
    }
}

fn days_table(detail: &ReservationDetail) -> Markup {
    html! {
        div class="scroll" {
            table {
                caption { "Jours demandés" }
                thead { tr { th scope="col" { "Date" } th scope="col" { "Votre demande" } th scope="col" { "État" } } }
                tbody {
                    @for d in &detail.days {
                        tr { td { (day(d.date)) } td { "REPAS" } td { (day_state(d.status)) } }
                    }
                }
            }
        }
    }
}

/// The days the request could not book, with why, from the request's own event.
pub(super) async fn refused_lines(state: &Cantine, id: Uuid) -> PortalResult<Vec<String>> {
    Ok(reservations::refused_lines(state, id).await?)
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/historique").await?;
    let detail = history::detail(&state, &caller, id).await?;
    let item = &detail.item;
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
            let refused = refused_lines(&state, id).await?;
            let calendar = format!(
                "/reservation/calendrier?enfant={}&periode={}&mois={}",
                item.child_id,
                item.period_id,
                item.first_day.format("%Y-%m")
            );
            html! {
                p class="info" {
                    "Les places demandées ne seront réservées définitivement qu'après le paiement en ligne. "
                    "Merci de vérifier les informations saisies avant de confirmer votre réservation."
                }
                h2 { "Récapitulatif de votre demande" }
                (heading)
                @if !refused.is_empty() {
                    ul class="alert" { @for line in &refused { li { (line) } } }
                }
                (days_table(&detail))
                (invoice_table(&detail, "Estimation de votre facture"))
                form method="post" action={"/reservations/" (id) "/confirmer"} class="actions" {
                    (csrf_field(&context.csrf))
                    a href=(calendar) { "Retour au planning" }
                    " "
                    button type="submit" class="primary" { "Confirmer la réservation" }
                }
                p class="note" { "Sans confirmation, la demande libère ses places au bout d'une heure." }
                (cancel_form(id, &context.csrf, "Abandonner cette demande"))
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
            (days_table(&detail))
            (invoice_table(&detail, "Détail de votre facture"))
            p class="actions" {
                a href="/" { "Retour au compte" } " "
                a href="/reservation/nouvelle" { "Nouvelle réservation" } " "
                a class="button primary" href="/panier" { "Accéder à mon panier" }
            }
            (cancel_form(id, &context.csrf, "Annuler cette réservation"))
        },
        _ => html! {
            (heading)
            (days_table(&detail))
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

/// Cancels every day still held (paid days before the cancellation cut-off become a credit
/// note there).
pub async fn cancel(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> PortalResult<Response> {
    let _cancelled = reservations::cancel(&state, &caller, id, None).await?;
    Ok(see_other(&format!("/reservations/{id}")))
}

fn cancel_form(id: Uuid, csrf: &str, label: &str) -> Markup {
    html! {
        form method="post" action={"/reservations/" (id) "/annuler"} class="actions" {
            (csrf_field(csrf))
            button type="submit" { (label) }
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
