//! "Relevé de compte": the family's ledger as the API's ledger handler answers it (invoices,
//! credit notes, payments, refunds, each signed from the family's side, with the running
//! balance) and the credit its next payment spends first.

use axum::extract::State;
use axum::response::Response;
use maud::html;
use rust_decimal::Decimal;

use super::context::Context;
use crate::app::queries::ledger::{self, EntryKind};
use crate::app::Cantine;
use crate::web::extract::Caller;
use crate::web::pages::error::PortalResult;
use crate::web::pages::format::{date_time, euros};
use crate::web::pages::layout::{ok, page};

fn kind_words(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Invoice => "Facture",
        EntryKind::CreditNote => "Avoir",
        EntryKind::Payment => "Paiement",
        EntryKind::Refund => "Remboursement dû",
    }
}

/// What a balance means for the family, in words: the sign is never the only cue.
fn balance_words(balance: Decimal) -> &'static str {
    if balance < Decimal::ZERO {
        "à régler"
    } else if balance.is_zero() {
        "compte soldé"
    } else {
        "en votre faveur"
    }
}

pub async fn page_get(State(state): State<Cantine>, caller: Caller) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/factures").await?;
    let account = ledger::ledger(&state, &caller).await?;
    // Invoices and credit notes link to their printable page.
    let documents = ledger::documents(&state, &caller).await?;
    let content = html! {
        dl class="summary totals" {
            dt { "Solde du compte" }
            dd id="solde" { strong { (euros(account.balance)) } " (" (balance_words(account.balance)) ")" }
            dt { "Avoir disponible" }
            dd id="avoir" { strong { (euros(account.credit)) } " (déduit de votre prochain paiement)" }
        }
        p class="note" {
            "Chaque opération est comptée de votre point de vue : une facture est un montant dû (négatif), "
            "un paiement ou un avoir un montant en votre faveur (positif)."
        }
        @if account.entries.is_empty() {
            p { "Aucune opération pour l'instant." }
        } @else {
            div class="scroll" {
                table class="stack ledger" {
                    caption { "Relevé des opérations" }
                    thead {
                        tr {
                            th scope="col" { "Date" }
                            th scope="col" { "Opération" }
                            th scope="col" { "Référence" }
                            th scope="col" { "Restaurant" }
                            th scope="col" { "Libellé" }
                            th scope="col" { "Montant" }
                            th scope="col" { "Solde" }
                        }
                    }
                    tbody {
                        @for e in &account.entries {
                            tr class={"entry-" (e.kind.as_str())} {
                                td data-label="Date" { (date_time(e.at)) }
                                td data-label="Opération" { (kind_words(e.kind)) }
                                td data-label="Référence" {
                                    @if let Some(id) = documents.get(&e.reference) {
                                        a href={"/factures/" (id)} { (e.reference) }
                                    } @else {
                                        (e.reference)
                                    }
                                }
                                td data-label="Restaurant" { (e.restaurant) }
                                td data-label="Libellé" { (e.label) }
                                td data-label="Montant" class="amount" { (euros(e.amount)) }
                                td data-label="Solde" class="amount" { (euros(e.balance)) }
                            }
                        }
                    }
                }
            }
        }
        p class="no-print actions" {
            a href="/factures" { "Mes factures" }
        }
    };
    Ok(ok(page("Relevé de compte", Some(&context.nav()), content)))
}
