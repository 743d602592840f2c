//! One invoice or credit note, laid out to be printed (or saved as PDF by the browser's print
//! dialog): the issuer, the number and date, the family, one line per reservation with the
//! child, the days, the unit price and the amount, the total and how it was settled. Read from
//! the API's invoices handler, so it is the document as issued; another family's id is 404.

use axum::extract::State;
use axum::response::Response;
use maud::html;
use uuid::Uuid;

use super::context::Context;
use crate::app::Cantine;
use crate::web::api::payments::{self, Invoice};
use crate::web::error::ApiError;
use crate::web::extract::{ApiPath, Caller};
use crate::web::pages::error::{PortalError, PortalResult};
use crate::web::pages::format::{date, date_time, euros_text, month_name};
use crate::web::pages::layout::{ok, page};

/// The document's name: an invoice, or a credit note ("avoir").
pub fn title_of(invoice: &Invoice) -> String {
    match invoice.kind.as_str() {
        "credit_note" => format!("Avoir n° {}", invoice.number),
        _ => format!("Facture n° {}", invoice.number),
    }
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/factures").await?;
    let invoice = payments::invoices(State(state.clone()), caller.clone())
        .await?
        .0
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| PortalError(ApiError::not_found("invoice")))?;
    let payment = match (invoice.kind.as_str(), invoice.payment_id) {
        ("payment", Some(payment_id)) => {
            payments::show(State(state.clone()), caller.clone(), ApiPath(payment_id))
                .await
                .ok()
                .map(|p| p.0)
        }
        _ => None,
    };
    let month = invoice
        .month
        .as_deref()
        .and_then(crate::domain::period::month_bounds)
        .map(|(first, _)| month_name(first));
    let content = html! {
        article class="invoice-doc" {
            div class="parties" {
                section aria-labelledby="emetteur" {
                    h2 id="emetteur" { "Émetteur" }
                    p { strong { (invoice.issuer) } br; (invoice.issuer_address) }
                }
                section aria-labelledby="destinataire" {
                    h2 id="destinataire" { "Famille" }
                    p { strong { (invoice.family_name) } }
                }
            }
            dl class="summary" {
                dt { "Numéro" } dd { (invoice.number) }
                dt { "Date d'émission" } dd { (date_time(invoice.issued_at)) }
                dt { "Nature" } dd {
                    @match invoice.kind.as_str() {
                        "credit_note" => "Avoir : repas payés puis annulés dans les délais",
                        "monthly" => "Facture mensuelle des repas (facturés après service)",
                        _ => "Facture des repas réservés et payés en ligne",
                    }
                }
                @if let Some(month) = &month { dt { "Mois facturé" } dd { (month) } }
            }
            div class="scroll" {
                table class="stack lines" {
                    caption { "Détail" }
                    thead {
                        tr {
                            th scope="col" { "Réservation" }
                            th scope="col" { "Enfant" }
                            th scope="col" { "Restaurant / période" }
                            th scope="col" { "Jours" }
                            th scope="col" { "Quantité" }
                            th scope="col" { "Prix unitaire" }
                            th scope="col" { "Montant" }
                        }
                    }
                    tbody {
                        @for line in &invoice.lines {
                            tr {
                                td data-label="Réservation" { "N° " (line.reservation_number) }
                                td data-label="Enfant" { (line.child) }
                                td data-label="Restaurant / période" { (line.restaurant) " – " (line.period) }
                                td data-label="Jours" {
                                    @for (i, d) in line.days.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        (date(*d))
                                    }
                                }
                                td data-label="Quantité" { (line.quantity) }
                                td data-label="Prix unitaire" class="amount" { (euros_text(&line.unit_price)) }
                                td data-label="Montant" class="amount" { (euros_text(&line.amount)) }
                            }
                        }
                    }
                    tfoot {
                        tr {
                            th scope="row" colspan="6" {
                                @if invoice.kind == "credit_note" { "Total crédité" } @else { "Total" }
                            }
                            td class="amount" { strong { (euros_text(&invoice.total)) } }
                        }
                    }
                }
            }
            section aria-labelledby="reglement" {
                h2 id="reglement" { "Règlement" }
                @match invoice.kind.as_str() {
                    "credit_note" => p {
                        "Montant crédité sur le compte de la famille le " (date_time(invoice.issued_at))
                        ", déduit de ses prochains paiements."
                    },
                    "monthly" => p { "Facture mensuelle à régler : repas facturés après service." },
                    _ => @if let Some(payment) = &payment {
                        p {
                            "Payée : " (euros_text(&payment.amount)) " par paiement en ligne"
                            @if payment.credit_used != "0.00" {
                                " et " (euros_text(&payment.credit_used)) " déduits de l'avoir de la famille"
                            }
                            ", le " (date_time(invoice.issued_at)) "."
                        }
                    } @else {
                        p { "Payée en ligne le " (date_time(invoice.issued_at)) "." }
                    },
                }
            }
        }
        p class="no-print note" {
            "Pour l'imprimer ou l'enregistrer en PDF, utilisez la commande « Imprimer » de votre navigateur : "
            "la page s'imprime sans le menu du portail."
        }
        p class="no-print actions" {
            a href="/factures" { "Retour à mes factures" }
            a href="/compte/releve" { "Relevé de compte" }
        }
    };
    Ok(ok(page(&title_of(&invoice), Some(&context.nav()), content)))
}
