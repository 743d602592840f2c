//! "Mes factures": the family's invoices as issued, read through the API's invoices handler.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::context::Context;
use crate::app::Cantine;
use crate::web::api::payments;
use crate::web::extract::Caller;
use crate::web::pages::error::PortalResult;
use crate::web::pages::format::{date, date_time, euros_text};
use crate::web::pages::layout::{ok, page};

pub async fn page_get(State(state): State<Cantine>, caller: Caller) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/factures").await?;
    let invoices = payments::invoices(State(state.clone()), caller).await?.0;
    let content = html! {
        @if invoices.is_empty() {
            p { "Aucune facture pour l'instant : une facture est émise à chaque paiement, ou chaque mois pour les repas facturés après." }
        } @else {
            div class="scroll" {
                table {
                    caption { "Factures & paiements – Restauration scolaire" }
                    thead {
                        tr {
                            th scope="col" { "N° de facture" }
                            th scope="col" { "Émise le" }
                            th scope="col" { "Détail" }
                            th scope="col" { "Montant" }
                        }
                    }
                    tbody {
                        @for invoice in &invoices {
                            tr {
                                td {
                                    a href={"/factures/" (invoice.id)} {
                                        (super::invoice::title_of(invoice))
                                    }
                                }
                                td { (date_time(invoice.issued_at)) }
                                td {
                                    ul class="plain" {
                                        @for line in &invoice.lines {
                                            li {
                                                "Réservation " (line.reservation_number) " – " (line.child) " – "
                                                (line.restaurant) " : " (line.quantity) " × "
                                                (euros_text(&line.unit_price)) " ("
                                                @for (i, d) in line.days.iter().enumerate() {
                                                    @if i > 0 { ", " }
                                                    (date(*d))
                                                }
                                                ")"
                                            }
                                        }
                                    }
                                }
                                td {
                                    (euros_text(&invoice.total))
                                    @if invoice.kind == "payment" { " – payée" }
                                    @if invoice.kind == "credit_note" { " – crédité" }
                                }
                            }
                        }
                    }
                }
            }
            p class="note" { "Émetteur : " (invoices[0].issuer) ", " (invoices[0].issuer_address) }
        }
        p { "Chaque facture et chaque avoir s'ouvre en une page imprimable. " a href="/compte/releve" { "Relevé de compte (solde et avoir disponible)" } }
    };
    Ok(ok(page("Mes factures", Some(&context.nav()), content)))
}
