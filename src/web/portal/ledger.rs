//! "Relevé de compte": the family's ledger as the API's ledger handler answers it (invoices,
//! credit notes, payments, refunds, each signed from the family's side, with the running
//! balance) and the credit its next payment spends first.

use axum::extract::State;
use axum::response::Response;
use maud::html;
use std::collections::HashMap;

use super::context::Context;
use crate::app::Cantine;
use crate::web::api::{ledger, payments};
use crate::web::extract::Caller;
use crate::web::pages::error::PortalResult;
use crate::web::pages::format::{date_time, euros_text};
use crate::web::pages::layout::{ok, page};

fn kind_words(kind: &str) -> &'static str {
    match kind {
        "invoice" => "Facture",
        "credit_note" => "Avoir",
        "payment" => "Paiement",
        "refund" => "Remboursement dû",
        _ => "Opération",
    }
}

/// What a balance means for the family, in words: the sign is never the only cue.
fn balance_words(balance: &str) -> &'static str {
    if balance.starts_with('-') {
        "à régler"
    } else if balance.trim_start_matches(['0', '.']).is_empty() {
        "compte soldé"
    } else {
        "en votre faveur"
    }
}

pub async fn page_get(State(state): State<Cantine>, caller: Caller) -> PortalResult<Response> {
    let context = Context::load(&state, &caller, "/factures").await?;
    let account = ledger::ledger(State(state.clone()), caller.clone())
        .await?
        .0;
    // Invoices and credit notes link to their printable page.
    let documents: HashMap<String, uuid::Uuid> =
        payments::invoices(State(state.clone()), caller.clone())
            .await?
            .0
            .into_iter()
            .map(|i| (i.number, i.id))
            .collect();
    let content = html! {
        dl class="summary totals" {
            dt { "Solde du compte" }
            dd id="solde" { strong { (euros_text(&account.balance)) } " (" (balance_words(&account.balance)) ")" }
            dt { "Avoir disponible" }
            dd id="avoir" { strong { (euros_text(&account.credit)) } " (déduit de votre prochain paiement)" }
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
                            tr class={"entry-" (e.kind)} {
                                td data-label="Date" { (date_time(e.at)) }
                                td data-label="Opération" { (kind_words(&e.kind)) }
                                td data-label="Référence" {
                                    @if let Some(id) = documents.get(&e.reference) {
                                        a href={"/factures/" (id)} { (e.reference) }
                                    } @else {
                                        (e.reference)
                                    }
                                }
                                td data-label="Restaurant" { (e.restaurant) }
                                td data-label="Libellé" { (e.label) }
                                td data-label="Montant" class="amount" { (euros_text(&e.amount)) }
                                td data-label="Solde" class="amount" { (euros_text(&e.balance)) }
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
