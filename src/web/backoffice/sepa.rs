//! `/gestion/finances/prelevements`: SEPA direct debit for the finance office (`app::sepa`, as
//! the API's `/api/v1/finance/creditor`, `/mandates`, `/sepa/{month}` and `/sepa-rejections`).
//! The creditor's identifier (ICS) and account; the families' mandates (record one from the
//! signed form, revoke one); the month's collection batches, each file downloadable, a form
//! that makes the month's batch; and each debit with a form to record its rejection (the R
//! code). A refusal is said in French next to its form and records nothing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::context::StaffContext;
use super::error::StaffResult;
use super::layout::page;
use crate::app::queries::finance::Month;
use crate::app::sepa::{self, CreditorInput, MandateInput, Rejected};
use crate::app::{AppError, Cantine};
use crate::domain::sepa::{SequenceType, REASON_CODES};
use crate::web::extract::{ApiForm, ApiPath, ApiQuery, Caller};
use crate::web::pages::format::{date, date_time, euros};
use crate::web::pages::layout::{csrf_field, render, see_other};

pub const PATH: &str = "/gestion/finances/prelevements";
pub const CREDITOR: &str = "/gestion/finances/prelevements/creancier";
pub const MANDATES: &str = "/gestion/finances/prelevements/mandats";
pub const BATCH: &str = "/gestion/finances/prelevements/lot";
pub const FILE: &str = "/gestion/finances/prelevements/fichier";
pub const REJECTIONS: &str = "/gestion/finances/prelevements/rejets";

#[derive(Deserialize)]
pub struct SepaQuery {
    pub mois: Option<String>,
    /// After an action: what was done.
    pub fait: Option<String>,
    /// The file of one batch.
    pub lot: Option<Uuid>,
}

/// Which form a refusal belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Creditor,
    Mandate,
    Batch,
    Debit,
}

fn month_or_current(state: &Cantine, asked: Option<&str>) -> Month {
    asked.and_then(|m| Month::parse(m).ok()).unwrap_or_else(|| {
        // The month whose invoices are collected now: the one before this one.
        let today = state.clock.paris_today();
        let previous = today.with_day0(0).unwrap_or(today) - chrono::Duration::days(1);
        Month::containing(previous)
    })
}

fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "creancier" => "Coordonnées du créancier enregistrées.",
        "mandat" => "Mandat enregistré.",
        "revocation" => "Mandat révoqué : plus aucun prélèvement sur ce compte.",
        "lot" => {
            "Lot de prélèvements préparé : téléchargez son fichier et remettez-le à la banque."
        }
        "lot-existant" => {
            "Aucune nouvelle facture à prélever : le dernier lot du mois est inchangé."
        }
        "rejet" => "Rejet enregistré : la facture est de nouveau à régler.",
        _ => return None,
    })
}

#[allow(clippy::too_many_arguments)]
async fn sepa_page(
    state: &Cantine,
    caller: &Caller,
    month: Month,
    done: Option<&str>,
    refused: Option<(Form, String)>,
    typed: &[(String, String)],
    status: StatusCode,
) -> StaffResult<Response> {
    let typed_value = |name: &str| field(typed, name).to_string();
    let context = StaffContext::load(state, caller, "/gestion/finances").await?;
    let creditor = sepa::creditor(state).await?;
    let mandates = sepa::mandates(state, None).await?;
    let (batches, debits) = sepa::month_batches(state, &month).await?;
    let families = crate::app::administration::families::search(state, "", 1, 500).await?;
    let alert = |form: Form| {
        html! {
            @if let Some((f, message)) = &refused {
                @if *f == form { p class="alert" role="alert" { (message) " Rien n'a été enregistré." } }
            }
        }
    };
    let content = html! {
        p class="no-print" {
            a href={"/gestion/finances?mois=" (month.text())} { "Synthèse du mois" } " · "
            a href="/gestion/finances/debiteurs" { "Débiteurs et encaissements" }
        }
        @if let Some(done) = done { p class="notice" role="status" { (done) } }
        form class="filters" method="get" action=(PATH) {
            p {
                label for="mois" { "Mois des factures" }
                input id="mois" name="mois" type="month" value=(month.text()) pattern="[0-9]{4}-[0-9]{2}";
            }
            p { button type="submit" class="primary" { "Afficher" } }
        }
        section id="lot" aria-labelledby="titre-lot" {
            h2 id="titre-lot" { "Prélèvements des factures de " (month.text()) }
            p class="note" {
                "Un lot prélève les factures mensuelles du mois restées à régler des familles qui ont un mandat en cours : "
                "les familles sont prévenues le jour du lot, et le prélèvement est demandé 14 jours plus tard (un jour ouvré TARGET2). "
                "Les premiers prélèvements d'un mandat (FRST) précèdent les récurrents (RCUR) dans le fichier pain.008.001.02."
            }
            (alert(Form::Batch))
            @if batches.is_empty() {
                p { "Aucun lot pour ce mois." }
            } @else {
                div class="scroll" {
                    table {
                        caption { "Lots du mois" }
                        thead { tr {
                            th scope="col" { "Lot" } th scope="col" { "Préparé le" } th scope="col" { "Familles prévenues le" }
                            th scope="col" { "Prélèvement le" } th scope="col" { "Opérations" } th scope="col" { "Total" }
                            th scope="col" { "Fichier" }
                        } }
                        tbody {
                            @for b in &batches {
                                tr {
                                    td { (b.message_id) }
                                    td { (date_time(b.created_at)) }
                                    td { (date(b.prenotified_on)) }
                                    td { (date(b.collection_date)) }
                                    td class="number" { (b.transactions) }
                                    td class="amount" { (euros(b.control_sum)) }
                                    td { a href={(FILE) "?mois=" (month.text()) "&lot=" (b.id)} download { "Télécharger " (b.message_id) ".xml" } }
                                }
                            }
                        }
                    }
                }
            }
            form method="post" action={(BATCH) "?mois=" (month.text()) "#lot"} {
                (csrf_field(&context.csrf))
                p { button type="submit" class="primary" { "Préparer le lot de " (month.text()) } }
            }
        }
        @if !debits.is_empty() {
            section id="operations" aria-labelledby="titre-operations" {
                h2 id="titre-operations" { "Opérations et rejets" }
                (alert(Form::Debit))
                div class="scroll" {
                    table {
                        caption { "Prélèvements du mois, par lot" }
                        thead { tr {
                            th scope="col" { "Famille" } th scope="col" { "Facture" } th scope="col" { "Référence (EndToEndId)" }
                            th scope="col" { "Séquence" } th scope="col" { "Montant" } th scope="col" { "État" }
                        } }
                        tbody {
                            @for d in &debits {
                                tr {
                                    td { (d.family_name) }
                                    td { (d.invoice_number) }
                                    td { (d.end_to_end_id) }
                                    td { (if d.sequence == "first" { "FRST" } else { "RCUR" }) }
                                    td class="amount" { (euros(d.amount)) }
                                    td {
                                        @match (&d.reject_code, d.rejected_at) {
                                            (Some(code), Some(at)) => { "Rejeté le " (date_time(at)) " (" (code) ")" }
                                            _ => {
                                                form method="post" action={(REJECTIONS) "?mois=" (month.text()) "#operations"} class="inline" {
                                                    (csrf_field(&context.csrf))
                                                    input type="hidden" name="reference" value=(d.end_to_end_id);
                                                    label for={"motif-" (d.id)} { "Motif du rejet" }
                                                    " "
                                                    select id={"motif-" (d.id)} name="motif" {
                                                        @for (code, label) in REASON_CODES {
                                                            option value=(code) { (code) " – " (label) }
                                                        }
                                                    }
                                                    " "
                                                    button type="submit" { "Enregistrer le rejet de " (d.invoice_number) }
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
        }
        section id="mandats" aria-labelledby="titre-mandats" {
            h2 id="titre-mandats" { "Mandats des familles" }
            (alert(Form::Mandate))
            @if mandates.is_empty() {
                p { "Aucun mandat enregistré." }
            } @else {
                div class="scroll admin" {
                    table class="stack" {
                        caption { "Mandats de prélèvement SEPA" }
                        thead { tr {
                            th scope="col" { "Famille" } th scope="col" { "RUM" } th scope="col" { "Titulaire" }
                            th scope="col" { "IBAN" } th scope="col" { "BIC" } th scope="col" { "Signé le" }
                            th scope="col" { "Prochain" } th scope="col" { "État" }
                        } }
                        tbody {
                            @for m in &mandates {
                                tr {
                                    th scope="row" data-label="Famille" { (m.family_name) }
                                    td data-label="RUM" { (m.rum) }
                                    td data-label="Titulaire" { (m.holder) }
                                    td data-label="IBAN" { (m.iban) }
                                    td data-label="BIC" { (m.bic) }
                                    td data-label="Signé le" { (date(m.signed_on)) }
                                    td data-label="Prochain" { (SequenceType::next(SequenceType::parse(&m.sequence).unwrap_or(SequenceType::First), m.collected > 0).code()) }
                                    td data-label="État" {
                                        @match m.revoked_at {
                                            Some(at) => { "Révoqué le " (date_time(at)) " (" (m.revoked_reason.clone().unwrap_or_default()) ")" }
                                            None => {
                                                form method="post" action={(MANDATES) "/" (m.id) "/revocation?mois=" (month.text()) "#mandats"} class="inline" {
                                                    (csrf_field(&context.csrf))
                                                    label for={"raison-" (m.id)} { "Motif" }
                                                    " "
                                                    input id={"raison-" (m.id)} name="motif" required;
                                                    " "
                                                    button type="submit" { "Révoquer le mandat " (m.rum) }
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
            form method="post" action={(MANDATES) "?mois=" (month.text()) "#mandats"} class="stack" {
                (csrf_field(&context.csrf))
                h3 { "Enregistrer un mandat signé" }
                p {
                    label for="famille" { "Famille" }
                    select id="famille" name="famille" {
                        @for f in &families.families {
                            option value=(f.id) selected[typed_value("famille") == f.id.to_string()] { (f.name) }
                        }
                    }
                }
                p { label for="titulaire" { "Titulaire du compte" } input id="titulaire" name="titulaire" required value=(typed_value("titulaire")); }
                p { label for="iban" { "IBAN" } input id="iban" name="iban" required autocomplete="off" placeholder="FR76 3000 6000 0112 3456 7890 189" value=(typed_value("iban")); }
                p { label for="bic" { "BIC" } input id="bic" name="bic" required autocomplete="off" value=(typed_value("bic")); }
                p { label for="rum" { "Référence unique du mandat (RUM)" } input id="rum" name="rum" required maxlength="35" value=(typed_value("rum")); }
                p { label for="signe" { "Signé le" } input id="signe" name="signe" type="date" required value=(typed_value("signe")); }
                p {
                    label for="sequence" { "Séquence" }
                    select id="sequence" name="sequence" {
                        option value="first" { "Premier prélèvement à venir (FRST)" }
                        option value="recurrent" selected[typed_value("sequence") == "recurrent"] { "Mandat déjà utilisé (RCUR)" }
                    }
                }
                p { button type="submit" class="primary" { "Enregistrer le mandat" } }
            }
        }
        section id="creancier" aria-labelledby="titre-creancier" {
            h2 id="titre-creancier" { "Créancier" }
            (alert(Form::Creditor))
            @match &creditor {
                Some(c) => {
                    dl class="summary" {
                        dt { "Nom" } dd { (c.name) }
                        dt { "Identifiant créancier SEPA (ICS)" } dd { (c.creditor_id) }
                        dt { "Compte crédité" } dd { (c.iban.printed()) " (BIC " (c.bic) ")" }
                    }
                }
                None => { p { "Indiquez l'identifiant créancier SEPA (ICS) et le compte de la régie avant le premier lot." } }
            }
            form method="post" action={(CREDITOR) "?mois=" (month.text()) "#creancier"} class="stack" {
                (csrf_field(&context.csrf))
                p { label for="nom" { "Nom lu par les familles" } input id="nom" name="nom" value=(creditor.as_ref().map(|c| c.name.clone()).unwrap_or_default()); }
                p { label for="ics" { "Identifiant créancier SEPA (ICS)" } input id="ics" name="ics" required value=(creditor.as_ref().map(|c| c.creditor_id.clone()).unwrap_or_default()); }
                p { label for="iban-creancier" { "IBAN du compte crédité" } input id="iban-creancier" name="iban" required value=(creditor.as_ref().map(|c| c.iban.printed()).unwrap_or_default()); }
                p { label for="bic-creancier" { "BIC" } input id="bic-creancier" name="bic" required value=(creditor.as_ref().map(|c| c.bic.clone()).unwrap_or_default()); }
                p { button type="submit" class="primary" { "Enregistrer le créancier" } }
            }
        }
    };
    Ok(render(
        status,
        page("Prélèvements SEPA", Some(&context.nav()), content),
    ))
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<SepaQuery>,
) -> StaffResult<Response> {
    let month = month_or_current(&state, query.mois.as_deref());
    let done = query.fait.as_deref().and_then(done_message);
    sepa_page(&state, &caller, month, done, None, &[], StatusCode::OK).await
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The French words of a refusal, or the error itself when it is not the user's to fix.
fn french(e: &AppError) -> Option<&'static str> {
    Some(match e.code() {
        "invalid_iban" => "L'IBAN est mal écrit (deux lettres de pays, deux chiffres de contrôle, puis le numéro).",
        "iban_checksum" => "L'IBAN est incorrect : sa clé de contrôle ne correspond pas (une erreur de saisie ?).",
        "invalid_bic" => "Le BIC a 8 ou 11 caractères (banque, pays, ville, agence).",
        "invalid_creditor_id" => "L'identifiant créancier SEPA (ICS) est incorrect (par exemple FR72ZZZ123456).",
        "invalid_holder" => "Indiquez le titulaire du compte (70 caractères au plus).",
        "invalid_rum" => "La RUM a 1 à 35 lettres, chiffres ou / - ? : ( ) . , ' +.",
        "invalid_sequence" => "Choisissez premier prélèvement ou mandat déjà utilisé.",
        "signed_in_future" => "La date de signature ne peut pas être après aujourd'hui.",
        "rum_taken" => "Cette RUM est déjà celle d'un autre mandat.",
        "mandate_in_force" => "Cette famille a déjà un mandat en cours : révoquez-le d'abord.",
        "reason_required" => "Indiquez le motif.",
        "already_revoked" => "Ce mandat est déjà révoqué.",
        "sepa_creditor_missing" => "Indiquez d'abord l'identifiant créancier SEPA (ICS) et le compte de la régie.",
        "nothing_to_collect" => "Aucune facture mensuelle de ce mois n'est à prélever (aucune famille avec un mandat ne doit rien).",
        "invalid_reason_code" => "Choisissez le motif de rejet donné par la banque.",
        "already_rejected" => "Le rejet de ce prélèvement est déjà enregistré.",
        "invalid_name" => "Le nom a 70 caractères au plus.",
        "malformed_body" | "invalid_parameter" => "Le formulaire est incomplet.",
        _ => return None,
    })
}

async fn outcome(
    state: &Cantine,
    caller: &Caller,
    month: Month,
    form: Form,
    typed: &[(String, String)],
    result: Result<&'static str, AppError>,
) -> StaffResult<Response> {
    match result {
        Ok(done) => Ok(see_other(&format!(
            "{PATH}?mois={}&fait={done}#contenu",
            month.text()
        ))),
        Err(e) => match french(&e) {
            Some(message) => {
                sepa_page(
                    state,
                    caller,
                    month,
                    None,
                    Some((form, message.to_string())),
                    if form == Form::Mandate { typed } else { &[] },
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            None => Err(e.into()),
        },
    }
}

pub async fn set_creditor(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<SepaQuery>,
    ApiForm(fields): ApiForm<Vec<(String, String)>>,
) -> StaffResult<Response> {
    let month = month_or_current(&state, query.mois.as_deref());
    let result = sepa::set_creditor(
        &state,
        &caller,
        CreditorInput {
            name: field(&fields, "nom"),
            creditor_id: field(&fields, "ics"),
            iban: field(&fields, "iban"),
            bic: field(&fields, "bic"),
        },
    )
    .await
    .map(|_| "creancier");
    outcome(&state, &caller, month, Form::Creditor, &fields, result).await
}

pub async fn sign_mandate(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<SepaQuery>,
    ApiForm(fields): ApiForm<Vec<(String, String)>>,
) -> StaffResult<Response> {
    let month = month_or_current(&state, query.mois.as_deref());
    let result = async {
        let family_id: Uuid = field(&fields, "famille")
            .parse()
            .map_err(|_| AppError::bad_input("malformed_body", "famille: not an id"))?;
        let signed_on = NaiveDate::parse_from_str(field(&fields, "signe"), "%Y-%m-%d")
            .map_err(|_| AppError::bad_input("malformed_body", "signe: not a date"))?;
        sepa::sign_mandate(
            &state,
            &caller,
            MandateInput {
                family_id,
                iban: field(&fields, "iban"),
                bic: field(&fields, "bic"),
                holder: field(&fields, "titulaire"),
                rum: field(&fields, "rum"),
                signed_on,
                sequence: field(&fields, "sequence"),
            },
        )
        .await
        .map(|_| "mandat")
    }
    .await;
    outcome(&state, &caller, month, Form::Mandate, &fields, result).await
}

pub async fn revoke_mandate(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<SepaQuery>,
    ApiForm(fields): ApiForm<Vec<(String, String)>>,
) -> StaffResult<Response> {
    let month = month_or_current(&state, query.mois.as_deref());
    let result = sepa::revoke_mandate(&state, &caller, id, field(&fields, "motif"))
        .await
        .map(|_| "revocation");
    outcome(&state, &caller, month, Form::Mandate, &fields, result).await
}

pub async fn prepare_batch(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<SepaQuery>,
) -> StaffResult<Response> {
    let month = month_or_current(&state, query.mois.as_deref());
    let result = sepa::month_file(&state, &caller, month.text())
        .await
        .map(|(_, _, new)| if new { "lot" } else { "lot-existant" });
    outcome(&state, &caller, month, Form::Batch, &[], result).await
}

pub async fn download(
    State(state): State<Cantine>,
    ApiQuery(query): ApiQuery<SepaQuery>,
) -> StaffResult<Response> {
    let month = month_or_current(&state, query.mois.as_deref());
    let id = query
        .lot
        .ok_or_else(|| AppError::bad_input("invalid_parameter", "lot: the batch's id"))?;
    let (message_id, xml) = sepa::batch_file(&state, month.text(), id).await?;
    Ok(crate::web::xml_response::xml_response(&message_id, xml))
}

pub async fn reject(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<SepaQuery>,
    ApiForm(fields): ApiForm<Vec<(String, String)>>,
) -> StaffResult<Response> {
    let month = month_or_current(&state, query.mois.as_deref());
    let result = sepa::reject(
        &state,
        &caller,
        Rejected::EndToEndId(field(&fields, "reference")),
        field(&fields, "motif"),
        "manual",
    )
    .await
    .map(|_| "rejet");
    outcome(&state, &caller, month, Form::Debit, &fields, result).await
}
