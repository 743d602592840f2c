//! One invoice or credit note, laid out to be printed (or saved as PDF by the browser's print
//! dialog): the issuer, the number and date, the family, one line per reservation with the
//! child, the days, the unit price and the amount, the total and how it was settled. Read as
//! issued (`app::queries::invoices`); another family's id is 404.

use axum::extract::State;
use axum::response::Response;
use maud::html;
use uuid::Uuid;

use super::cart::shown_as_zero;
use super::context::Context;
use crate::app::payments::Settlement;
use crate::app::queries::invoices;
use crate::app::{payments, Cantine};
use crate::domain::invoice::{InvoiceIssued, InvoiceKind};
use crate::domain::payment::PaymentStatus;
use crate::web::extract::{ApiPath, Caller};
use crate::web::pages::error::PortalResult;
use crate::web::pages::format::{date, date_time, euros, month_name};
use crate::web::pages::layout::{csrf_field, ok, page, see_other};
use rust_decimal::Decimal;

/// Where a monthly invoice stands, in the family's words: paid, partly paid or unpaid, and
/// what is left.
pub fn settlement_words(settlement: Settlement) -> String {
    if settlement.due <= Decimal::ZERO {
        "payée".to_string()
    } else if settlement.paid > Decimal::ZERO {
        format!(
            "partiellement payée ({} payés), reste à payer {}",
            euros(settlement.paid),
            euros(settlement.due)
        )
    } else {
        format!("non payée, reste à payer {}", euros(settlement.due))
    }
}

/// Pays what is left on one of the family's monthly invoices: the payment route's use case,
/// the family's credit first, then the provider's page (or the outcome when the credit paid
/// it all).
pub async fn pay(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> PortalResult<Response> {
    let started = payments::start_with_invoices(&state, &caller, &[], &[id]).await?;
    if started.status == PaymentStatus::Succeeded {
        return Ok(see_other(&format!("/paiements/{}", started.id)));
    }
    Ok(see_other(&started.redirect_url))
}

/// The document's name: an invoice, or a credit note ("avoir").
pub fn title_of(invoice: &InvoiceIssued) -> String {
    match invoice.kind {
        InvoiceKind::CreditNote => format!("Avoir n° {}", invoice.number),
        _ => format!("Facture n° {}", invoice.number),
    }
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/factures").await?;
    let invoice = invoices::one(&state, &caller, id).await?;
    let settlement = payments::settlements(&state, caller.family()?)
        .await?
        .into_iter()
        .find(|(i, _)| i.invoice_id == id)
        .map(|(_, s)| s);
    let payment = match (invoice.kind, invoice.payment_id) {
        (InvoiceKind::Payment, Some(payment_id)) => {
            payments::show(&state, &caller, payment_id).await.ok()
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
                    p { strong { (invoice.issuer.name) } br; (invoice.issuer.address) }
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
                    @match invoice.kind {
                        InvoiceKind::CreditNote => "Avoir : repas payés puis annulés dans les délais",
                        InvoiceKind::Monthly => "Facture mensuelle des repas (facturés après service)",
                        InvoiceKind::Payment => "Facture des repas réservés et payés en ligne",
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
                                td data-label="Prix unitaire" class="amount" { (euros(line.unit_price)) }
                                td data-label="Montant" class="amount" { (euros(line.amount)) }
                            }
                        }
                    }
                    tfoot {
                        tr {
                            th scope="row" colspan="6" {
                                @if invoice.kind == InvoiceKind::CreditNote { "Total crédité" } @else { "Total" }
                            }
                            td class="amount" { strong { (euros(invoice.total)) } }
                        }
                    }
                }
            }
            section aria-labelledby="reglement" {
                h2 id="reglement" { "Règlement" }
                @match invoice.kind {
                    InvoiceKind::CreditNote => p {
                        "Montant crédité sur le compte de la famille le " (date_time(invoice.issued_at))
                        ", déduit de ses prochains paiements."
                    },
                    InvoiceKind::Monthly => @if let Some(settlement) = settlement {
                        p { "Facture mensuelle des repas facturés après service : "
                            strong { (settlement_words(settlement)) } "." }
                        @if settlement.due > Decimal::ZERO {
                            form method="post" action={"/factures/" (invoice.invoice_id) "/paiement"} class="no-print actions" {
                                (csrf_field(&context.csrf))
                                button type="submit" class="primary" { "Payer " (euros(settlement.due)) " en ligne" }
                            }
                            p class="note" { "Votre avoir éventuel est déduit d'abord." }
                        }
                    } @else {
                        p { "Facture mensuelle à régler : repas facturés après service." }
                    },
                    InvoiceKind::Payment => @if let Some(payment) = &payment {
                        p {
                            "Payée : " (euros(payment.amount)) " par paiement en ligne"
                            @if !shown_as_zero(payment.credit_used) {
                                " et " (euros(payment.credit_used)) " déduits de l'avoir de la famille"
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
