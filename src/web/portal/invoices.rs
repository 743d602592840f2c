//! "Mes factures": the family's invoices as issued, each with what is paid and left on it
//! (`app::payments::settlements`), and a button to pay what is left on a monthly invoice.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::context::Context;
use crate::app::payments::settlements;
use crate::app::Cantine;
use crate::domain::invoice::InvoiceKind;
use crate::web::extract::Caller;
use crate::web::pages::error::PortalResult;
use crate::web::pages::format::{date, date_time, euros};
use crate::web::pages::layout::{csrf_field, ok, page};

pub async fn page_get(State(state): State<Cantine>, caller: Caller) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/factures").await?;
    let settled = settlements(&state, caller.family()?).await?;
    let invoices: Vec<_> = settled.iter().map(|(i, _)| i.clone()).collect();
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
                        @for (invoice, settlement) in &settled {
                            tr {
                                td {
                                    a href={"/factures/" (invoice.invoice_id)} {
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
                                                (euros(line.unit_price)) " ("
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
                                    (euros(invoice.total))
                                    @if invoice.kind == InvoiceKind::Payment { " – payée" }
                                    @if invoice.kind == InvoiceKind::CreditNote { " – crédité" }
                                    @if invoice.kind == InvoiceKind::Monthly {
                                        " – " (super::invoice::settlement_words(*settlement))
                                        @if settlement.due > rust_decimal::Decimal::ZERO {
                                            form method="post" action={"/factures/" (invoice.invoice_id) "/paiement"} {
                                                (csrf_field(&context.csrf))
                                                button type="submit" class="primary" {
                                                    "Payer " (euros(settlement.due))
                                                    span class="visually-hidden" { " – facture n° " (invoice.number) }
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
            p class="note" { "Émetteur : " (invoices[0].issuer.name) ", " (invoices[0].issuer.address) }
        }
        p { "Chaque facture et chaque avoir s'ouvre en une page imprimable. " a href="/compte/releve" { "Relevé de compte (solde et avoir disponible)" } }
    };
    Ok(ok(page("Mes factures", Some(&context.nav()), content)))
}
