//! `/gestion/finances/debiteurs`: the finance office's debtors (the families that owe on monthly
//! invoices, each invoice with its age and what is left), their CSV, and at each family a form
//! to record what it paid at the desk: a cheque (number and bank), cash or a bank transfer,
//! which gets its receipt number (`app::desk_payments`, as the API's
//! `POST /api/v1/finance/payments`). A refusal is said in French and records nothing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use super::context::StaffContext;
use super::error::StaffResult;
use super::layout::page;
use crate::app::desk_payments::{self, DeskPayment};
use crate::app::queries::debtors::debtors;
use crate::app::{AppError, Cantine};
use crate::web::csv_response::debtors_csv;
use crate::web::extract::{ApiForm, ApiQuery, Caller};
use crate::web::pages::format::{amount_field, date, euros};
use crate::web::pages::layout::{csrf_field, render, see_other};

pub const PATH: &str = "/gestion/finances/debiteurs";
pub const EXPORT: &str = "/gestion/finances/debiteurs/export";
pub const RECORD: &str = "/gestion/finances/encaissements";

#[derive(Deserialize)]
pub struct DebtorsQuery {
    /// After a payment recorded: its receipt number.
    pub recu: Option<String>,
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<DebtorsQuery>,
) -> StaffResult<Response> {
    let done = query
        .recu
        .filter(|r| r.starts_with("RC-") && r.len() < 20)
        .map(|r| format!("Encaissement enregistré : reçu n° {r}."));
    debtors_page(&state, &caller, done, None, StatusCode::OK).await
}

async fn debtors_page(
    state: &Cantine,
    caller: &Caller,
    done: Option<String>,
    refused: Option<(Uuid, String)>,
    status: StatusCode,
) -> StaffResult<Response> {
    let context = StaffContext::load(state, caller, "/gestion/finances").await?;
    let owing = debtors(state, None).await?;
    let total: Decimal = owing.iter().map(|d| d.due).sum();
    let content = html! {
        p class="no-print" {
            a href="/gestion/finances" { "Synthèse du mois" } " · "
            a href=(EXPORT) { "Télécharger la liste (CSV)" }
        }
        @if let Some(done) = &done { p class="info" role="status" { (done) } }
        @if owing.is_empty() {
            p { "Aucune facture mensuelle ne reste à régler." }
        } @else {
            p {
                @if owing.len() == 1 { "1 famille doit " } @else { (owing.len()) " familles doivent " }
                strong { (euros(total)) } " sur des factures mensuelles."
            }
            @for debtor in &owing {
                section id={"famille-" (debtor.family_id)} aria-labelledby={"titre-" (debtor.family_id)} {
                    h2 id={"titre-" (debtor.family_id)} {
                        (debtor.family_name) " – " (euros(debtor.due)) " à régler, " (since(debtor.age_days))
                    }
                    div class="scroll" {
                        table {
                            caption { "Factures non réglées de " (debtor.family_name) }
                            thead { tr {
                                th scope="col" { "Facture" } th scope="col" { "Mois" }
                                th scope="col" { "Émise le" } th scope="col" { "Âge (jours)" }
                                th scope="col" { "Total" } th scope="col" { "Payé" } th scope="col" { "Reste dû" }
                            } }
                            tbody {
                                @for invoice in &debtor.invoices {
                                    tr {
                                        td {
                                            (invoice.number)
                                            @if let Some(r) = &invoice.sepa_rejection {
                                                br;
                                                strong {
                                                    "Prélèvement rejeté le " (date(crate::domain::period::paris_day(r.rejected_at)))
                                                    " (" (r.code) " : " (r.reason) ")"
                                                }
                                            }
                                        }
                                        td { (invoice.month.clone().unwrap_or_default()) }
                                        td { (date(crate::domain::period::paris_day(invoice.issued_at))) }
                                        td { (invoice.age_days) }
                                        td class="amount" { (euros(invoice.total)) }
                                        td class="amount" { (euros(invoice.paid)) }
                                        td class="amount" { (euros(invoice.due)) }
                                    }
                                }
                            }
                        }
                    }
                    @if let Some((family, message)) = &refused {
                        @if *family == debtor.family_id {
                            p class="alert" role="alert" { (message) " Rien n'a été enregistré." }
                        }
                    }
                    form method="post" action={(RECORD) "#famille-" (debtor.family_id)} class="filters" {
                        (csrf_field(&context.csrf))
                        input type="hidden" name="famille" value=(debtor.family_id);
                        @for invoice in &debtor.invoices {
                            input type="hidden" name="facture" value=(invoice.invoice_id);
                        }
                        p {
                            label for={"methode-" (debtor.family_id)} { "Moyen de paiement" }
                            select id={"methode-" (debtor.family_id)} name="methode" {
                                option value="cheque" { "Chèque" }
                                option value="cash" { "Espèces" }
                                option value="transfer" { "Virement" }
                            }
                        }
                        p {
                            label for={"montant-" (debtor.family_id)} { "Montant (€)" }
                            input id={"montant-" (debtor.family_id)} name="montant" inputmode="decimal"
                                value=(amount_field(debtor.due));
                        }
                        p {
                            label for={"reference-" (debtor.family_id)} { "N° de chèque et banque, ou référence du virement" }
                            input id={"reference-" (debtor.family_id)} name="reference";
                        }
                        p { button type="submit" class="primary" { "Enregistrer l'encaissement de " (debtor.family_name) } }
                    }
                }
            }
        }
    };
    Ok(render(
        status,
        page("Débiteurs et encaissements", Some(&context.nav()), content),
    ))
}

/// The form's fields; `facture` comes once per invoice.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

pub async fn record(
    State(state): State<Cantine>,
    caller: Caller,
    ApiForm(fields): ApiForm<Vec<(String, String)>>,
) -> StaffResult<Response> {
    let family_id: Uuid = field(&fields, "famille")
        .parse()
        .map_err(|_| AppError::bad_input("malformed_body", "famille: not an id"))?;
    let invoice_ids: Vec<Uuid> = fields
        .iter()
        .filter(|(k, _)| k == "facture")
        .map(|(_, v)| v.parse())
        .collect::<Result<_, _>>()
        .map_err(|_| AppError::bad_input("malformed_body", "facture: not an id"))?;
    let amount = field(&fields, "montant")
        .trim()
        .replace(',', ".")
        .parse::<Decimal>()
        .unwrap_or(Decimal::ZERO);
    let recorded = desk_payments::record(
        &state,
        &caller,
        DeskPayment {
            family_id,
            method: field(&fields, "methode"),
            amount,
            invoice_ids: &invoice_ids,
            reference: field(&fields, "reference"),
        },
    )
    .await;
    match recorded {
        Ok(receipt) => Ok(see_other(&format!(
            "{PATH}?recu={}#contenu",
            receipt.receipt_number
        ))),
        Err(e) => {
            let message = match e.code() {
                "reference_required" => {
                    "Indiquez le numéro et la banque du chèque, ou la référence du virement."
                }
                "invalid_amount" => "Le montant est un nombre d'euros positif (par exemple 9,94).",
                "invalid_method" => "Choisissez chèque, espèces ou virement.",
                "invoice_paid" => "Une de ces factures est déjà réglée : rechargez la page.",
                "not_found" => "Cette famille ou cette facture n'existe pas.",
                _ => return Err(e.into()),
            };
            debtors_page(
                &state,
                &caller,
                None,
                Some((family_id, message.to_string())),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn export(State(state): State<Cantine>) -> StaffResult<Response> {
    let owing = debtors(&state, None).await?;
    Ok(debtors_csv(state.clock.paris_today(), &owing)?)
}

/// How long the oldest unpaid invoice has waited, in words.
fn since(age_days: i64) -> String {
    match age_days {
        i64::MIN..=0 => "facture émise aujourd'hui".to_string(),
        1 => "depuis 1 jour".to_string(),
        n => format!("depuis {n} jours"),
    }
}
