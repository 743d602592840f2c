//! `/gestion/finances`: the finance office's month. The summary (the reconciliation report and
//! its `balanced` verdict in words, and the month's CSV exports), the invoices (search by number
//! or family, pages of [`PAGE_SIZE`]) and the payments (by status). Everything is read through
//! `app::queries::finance`, as the API reads it; the exports are the same CSV files as the API's.

use crate::domain::period::paris_day;
use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::context::StaffContext;
use super::error::StaffResult;
use super::layout::page;
use crate::app::queries::finance::{self, Balance, Column, ExportDocument, Month};
use crate::app::Cantine;
use crate::domain::invoice::InvoiceKind;
use crate::domain::payment::PaymentStatus;
use crate::web::csv_response::{month_export_csv, reconciliation_csv, CsvStyle};
use crate::web::error::ApiError;
use crate::web::extract::{ApiPath, ApiQuery, Caller};
use crate::web::pages::format::{date, date_time, euros, month_name};
use crate::web::pages::layout::ok;

pub const PATH: &str = "/gestion/finances";
pub const INVOICES: &str = "/gestion/finances/factures";
pub const PAYMENTS: &str = "/gestion/finances/paiements";
pub const EXPORTS: &str = "/gestion/finances/exports";
pub const PAGE_SIZE: usize = 20;

#[derive(Deserialize)]
pub struct FinanceQuery {
    pub mois: Option<String>,
    /// Invoices: a number or a family's name, or part of it.
    pub recherche: Option<String>,
    pub page: Option<usize>,
    /// Payments: `pending`, `succeeded` or `failed`; all when empty.
    pub statut: Option<String>,
}

/// The month asked for (`YYYY-MM`), else the current month of Paris; `invalid` when what was
/// asked could not be read.
struct Asked {
    month: Month,
    invalid: bool,
}

fn month_of(state: &Cantine, asked: Option<&str>) -> Asked {
    let asked = asked.filter(|m| !m.is_empty());
    match asked.map(Month::parse) {
        Some(Ok(month)) => Asked {
            month,
            invalid: false,
        },
        other => Asked {
            month: Month::containing(state.clock.paris_today()),
            invalid: other.is_some(),
        },
    }
}

/// The month's picker, the finance office's three pages, and any other filters.
fn filters(action: &str, asked: &Asked, extra: Markup) -> Markup {
    let month = &asked.month;
    html! {
        nav aria-label="Pages des finances" class="no-print" {
            ul class="actions" {
                @for (href, label) in [(PATH, "Synthèse du mois"), (INVOICES, "Factures"), (PAYMENTS, "Paiements"), (super::debtors::PATH, "Débiteurs et encaissements"), (super::sepa::PATH, "Prélèvements SEPA"), (super::refunds::PATH, "Remboursements d'avoirs")] {
                    li {
                        @if href == action {
                            a href=(format!("{href}?mois={}", month.text())) aria-current="page" { (label) }
                        } @else {
                            a href=(format!("{href}?mois={}", month.text())) { (label) }
                        }
                    }
                }
            }
        }
        form class="filters" method="get" action=(action) {
            p {
                label for="mois" { "Mois" }
                input id="mois" name="mois" type="month" value=(month.text()) pattern="[0-9]{4}-[0-9]{2}"
                    aria-describedby=[asked.invalid.then_some("mois-erreur")];
                @if asked.invalid {
                    span id="mois-erreur" class="field-error" { " Mois invalide (aaaa-mm) : voici le mois en cours." }
                }
            }
            (extra)
            p { button type="submit" class="primary" { "Afficher" } }
        }
    }
}

fn balance_row(row: &Balance, total: bool) -> Markup {
    html! {
        tr {
            @if total {
                th scope="row" data-label="Restaurant" { "Total" }
            } @else {
                th scope="row" data-label="Restaurant" { (row.restaurant) }
            }
            td class="number" data-label="Facturé" { (euros(row.invoiced)) }
            td class="number" data-label="Avoirs" { (euros(row.credited)) }
            td class="number" data-label="Encaissé" { (euros(row.paid)) }
            td class="number" data-label="Remboursé" { (euros(row.refunded)) }
            td class="number" data-label="Reste dû" { (euros(row.outstanding())) }
        }
    }
}

fn column_label(column: Column) -> &'static str {
    match column {
        Column::Invoiced => "Facturé (factures émises)",
        Column::Credited => "Avoirs (avoirs émis)",
        Column::Paid => "Encaissé (paiements réussis)",
        Column::Refunded => "Remboursé (remboursements enregistrés)",
    }
}

/// The month's exports, each in plain CSV and in the spelling French spreadsheets open directly.
const EXPORT_DOCUMENTS: [(&str, &str); 5] = [
    ("invoices", "Factures"),
    ("credit-notes", "Avoirs"),
    ("payments", "Paiements"),
    ("refunds", "Remboursements"),
    ("reconciliation", "Rapprochement par restaurant"),
];

pub async fn summary(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<FinanceQuery>,
) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, PATH).await?;
    let asked = month_of(&state, query.mois.as_deref());
    let month = &asked.month;
    let report = finance::reconciliation(&state, month).await?;
    let failing: Vec<_> = report.checks.iter().filter(|c| !c.holds).collect();
    let content = html! {
        (filters(PATH, &asked, html! {}))
        section aria-labelledby="rapprochement" {
            h2 id="rapprochement" { "Rapprochement de " (month_name(month.first())) }
            @if report.balanced {
                p class="verdict-ok" role="status" {
                    "✓ Le mois est équilibré : chaque colonne correspond à ses pièces (factures, avoirs, "
                    "paiements, remboursements) et chaque restaurant à son solde."
                }
            } @else {
                div class="alert" role="alert" {
                    p { "✗ Le mois n'est pas équilibré : le grand livre et les pièces ne concordent pas." }
                    @if !failing.is_empty() {
                        ul {
                            @for check in &failing {
                                li {
                                    (column_label(check.column)) " : grand livre "
                                    (euros(check.ledger)) ", pièces " (euros(check.source))
                                }
                            }
                        }
                    }
                }
            }
            @if report.restaurants.is_empty() {
                p { "Aucun mouvement ce mois-ci." }
            } @else {
                div class="scroll" {
                    table class="stack" {
                        caption { "Mouvements de " (month_name(month.first())) " par restaurant" }
                        thead {
                            tr {
                                th scope="col" { "Restaurant" }
                                th scope="col" class="number" { "Facturé" }
                                th scope="col" class="number" { "Avoirs" }
                                th scope="col" class="number" { "Encaissé" }
                                th scope="col" class="number" { "Remboursé" }
                                th scope="col" class="number" { "Reste dû" }
                            }
                        }
                        tbody {
                            @for row in &report.restaurants { (balance_row(row, false)) }
                            (balance_row(&report.totals, true))
                        }
                    }
                }
                p class="note" {
                    "Reste dû = facturé − avoirs − encaissé + remboursé ; négatif, c'est un crédit que "
                    "les familles peuvent encore utiliser."
                }
            }
        }
        section aria-labelledby="exports" {
            h2 id="exports" { "Exports de " (month_name(month.first())) }
            ul {
                @for (document, label) in EXPORT_DOCUMENTS {
                    li {
                        (label) " : "
                        a href=(format!("{EXPORTS}/{document}?mois={}", month.text())) download {
                            "CSV" span class="visually-hidden" { " " (label) }
                        }
                        " · "
                        a href=(format!("{EXPORTS}/{document}?mois={}&format=fr", month.text())) download {
                            "CSV pour tableur français" span class="visually-hidden" { " " (label) }
                        }
                    }
                }
            }
        }
    };
    Ok(ok(page(
        &format!("Finances – {}", month_name(month.first())),
        Some(&context.nav()),
        content,
    )))
}

fn kind_label(kind: InvoiceKind) -> &'static str {
    match kind {
        InvoiceKind::Payment => "Facture (paiement en ligne)",
        InvoiceKind::Monthly => "Facture mensuelle",
        InvoiceKind::CreditNote => "Avoir",
    }
}

pub async fn invoices(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<FinanceQuery>,
) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, PATH).await?;
    let asked = month_of(&state, query.mois.as_deref());
    let month = &asked.month;
    let search = query.recherche.as_deref().unwrap_or("").trim().to_string();
    let needle = search.to_lowercase();
    let found: Vec<_> = finance::month_issued(&state, month)
        .await?
        .into_iter()
        .filter(|i| {
            needle.is_empty()
                || i.number.to_lowercase().contains(&needle)
                || i.family_name.to_lowercase().contains(&needle)
        })
        .collect();
    let pages = found.len().div_ceil(PAGE_SIZE).max(1);
    let page_number = query.page.unwrap_or(1).clamp(1, pages);
    let shown = found
        .iter()
        .skip((page_number - 1) * PAGE_SIZE)
        .take(PAGE_SIZE);
    let link = |n: usize| {
        format!(
            "{INVOICES}?mois={}&recherche={}&page={n}",
            month.text(),
            urlencode(&search)
        )
    };
    let content = html! {
        (filters(INVOICES, &asked, html! {
            p {
                label for="recherche" { "N° de facture ou famille" }
                input id="recherche" name="recherche" type="search" value=(search);
            }
        }))
        p role="status" { (found.len()) " pièce(s) en " (month_name(month.first())) }
        @if !found.is_empty() {
            div class="scroll" {
                table class="stack" {
                    caption { "Factures et avoirs de " (month_name(month.first())) ", page " (page_number) " sur " (pages) }
                    thead {
                        tr {
                            th scope="col" { "N°" }
                            th scope="col" { "Émise le" }
                            th scope="col" { "Famille" }
                            th scope="col" { "Nature" }
                            th scope="col" class="number" { "Repas" }
                            th scope="col" class="number" { "Montant" }
                        }
                    }
                    tbody {
                        @for invoice in shown {
                            tr {
                                th scope="row" data-label="N°" { (invoice.number) }
                                td data-label="Émise le" { (date_time(invoice.issued_at)) }
                                td data-label="Famille" { (invoice.family_name) }
                                td data-label="Nature" { (kind_label(invoice.kind)) }
                                td class="number" data-label="Repas" { (invoice.lines.iter().map(|l| l.quantity).sum::<u32>()) }
                                td class="number" data-label="Montant" { (euros(invoice.total)) }
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav aria-label="Pages de la liste" class="pages no-print" {
                    @if page_number > 1 { a href=(link(page_number - 1)) { "← Page précédente" } }
                    span { "Page " (page_number) " sur " (pages) }
                    @if page_number < pages { a href=(link(page_number + 1)) { "Page suivante →" } }
                }
            }
        }
    };
    Ok(ok(page(
        &format!("Factures – {}", month_name(month.first())),
        Some(&context.nav()),
        content,
    )))
}

const STATUSES: [(PaymentStatus, &str); 3] = [
    (PaymentStatus::Succeeded, "✓ Réussi"),
    (PaymentStatus::Pending, "? En cours"),
    (PaymentStatus::Failed, "✗ Échoué"),
];

fn status_label(status: PaymentStatus) -> &'static str {
    STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map_or("Inconnu", |(_, l)| *l)
}

pub async fn payments(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<FinanceQuery>,
) -> StaffResult<Response> {
    let context = StaffContext::load(&state, &caller, PATH).await?;
    let asked = month_of(&state, query.mois.as_deref());
    let month = &asked.month;
    let status = query.statut.as_deref().and_then(PaymentStatus::parse);
    let rows = finance::month_payments(&state, month, status).await?;
    let content = html! {
        (filters(PAYMENTS, &asked, html! {
            p {
                label for="statut" { "État" }
                select id="statut" name="statut" {
                    option value="" selected[status.is_none()] { "Tous" }
                    @for (value, label) in STATUSES {
                        option value=(value.as_str()) selected[status == Some(value)] { (label) }
                    }
                }
            }
        }))
        p role="status" { (rows.len()) " paiement(s) commencé(s) en " (month_name(month.first())) }
        @if !rows.is_empty() {
            div class="scroll" {
                table class="stack" {
                    caption { "Paiements de " (month_name(month.first())) }
                    thead {
                        tr {
                            th scope="col" { "Commencé le" }
                            th scope="col" { "Famille" }
                            th scope="col" { "État" }
                            th scope="col" { "Réglé le" }
                            th scope="col" class="number" { "Réservations" }
                            th scope="col" class="number" { "Crédit utilisé" }
                            th scope="col" class="number" { "Montant" }
                            th scope="col" { "Référence" }
                        }
                    }
                    tbody {
                        @for p in &rows {
                            tr {
                                th scope="row" data-label="Commencé le" { (date_time(p.created_at)) }
                                td data-label="Famille" { (p.family_name) }
                                td data-label="État" class=(format!("payment-{}", p.status.as_str())) { (status_label(p.status)) }
                                td data-label="Réglé le" { @if let Some(at) = p.settled_at { (date(paris_day(at))) } @else { "—" } }
                                td class="number" data-label="Réservations" { (p.reservations) }
                                td class="number" data-label="Crédit utilisé" { (euros(p.credit_used)) }
                                td class="number" data-label="Montant" { (euros(p.amount)) }
                                td data-label="Référence" { (p.provider_ref.as_deref().unwrap_or("—")) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ok(page(
        &format!("Paiements – {}", month_name(month.first())),
        Some(&context.nav()),
        content,
    )))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    pub mois: String,
    pub format: Option<String>,
}

/// The month's exports, the same CSV files as the API's (`api::month_end`), for the cookie
/// session; and the reconciliation report as CSV.
pub async fn export(
    State(state): State<Cantine>,
    ApiPath(document): ApiPath<String>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> StaffResult<Response> {
    let style = CsvStyle::from_param(query.format.as_deref())?;
    let month = Month::parse(&query.mois)?;
    if document == "reconciliation" {
        let report = finance::reconciliation(&state, &month).await?;
        return Ok(reconciliation_csv(style, &report)?);
    }
    let document = ExportDocument::parse(&document).ok_or_else(|| ApiError::not_found("export"))?;
    let rows = finance::export(&state, &month, document).await?;
    Ok(month_export_csv(style, &month, rows)?)
}

/// Enough of a query string's escaping for a search box's text.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
