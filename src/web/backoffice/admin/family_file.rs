//! `/gestion/familles/{id}/dossier`: a family's file for the front desk (`app::queries::
//! family_file`), and the desk's two actions on it, through the family's own use cases with the
//! staff member as the actor: book days for a child, and cancel a reservation's days, past the
//! family's cut-off only with a reason from the list (`app::reservations`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::families::{family_path, PATH};
use crate::app::administration::periods;
use crate::app::queries::family_file::{self, FamilyFile};
use crate::app::queries::ledger::EntryKind;
use crate::app::{reservations, AppError, Cantine};
use crate::domain::account::Role;
use crate::domain::calendar_status::CalendarStatus;
use crate::domain::invoice::InvoiceKind;
use crate::domain::period::Weekday;
use crate::domain::reservation::{LateReason, RequestedDays, ReservationStatus};
use crate::domain::selection::DaySelection;
use crate::web::backoffice::context::StaffContext;
use crate::web::backoffice::error::StaffResult;
use crate::web::backoffice::layout::page;
use crate::web::error::ApiError;
use crate::web::extract::{ApiForm, ApiPath, Caller};
use crate::web::pages::error::french_message;
use crate::web::pages::format::{date, date_time, euros, reservation_state};
use crate::web::pages::layout::{csrf_field, render};

pub fn file_path(family_id: Uuid) -> String {
    format!("{}/dossier", family_path(family_id))
}

/// What the last action did, shown at the top of the file.
enum Outcome {
    Done(Vec<String>),
    Refused(String),
}

pub async fn show(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(family_id): ApiPath<Uuid>,
) -> StaffResult<Response> {
    file_page(&state, &caller, family_id, None, StatusCode::OK).await
}

async fn file_page(
    state: &Cantine,
    caller: &Caller,
    family_id: Uuid,
    outcome: Option<Outcome>,
    status: StatusCode,
) -> StaffResult<Response> {
    let context = StaffContext::load(state, caller, PATH).await?;
    let file = family_file::family_file(state, caller, family_id, None).await?;
    let periods = periods::list(state, None).await?;
    let csrf = &context.csrf;
    let content = html! {
        @if caller.role == Role::Admin {
            p { a href=(family_path(family_id)) { "← Le compte de la famille" } }
        } @else {
            p { a href=(PATH) { "← Toutes les familles" } }
        }
        @match &outcome {
            Some(Outcome::Done(lines)) => div class="info" role="status" {
                @for line in lines { p { (line) } }
            },
            Some(Outcome::Refused(why)) => p class="alert" role="alert" { (why) },
            None => {},
        }
        dl class="summary" {
            dt { "Solde" }
            dd {
                strong { (euros(file.ledger.balance)) }
                @if file.ledger.balance.is_sign_negative() { " (à régler)" }
            }
            dt { "Avoir disponible" } dd { (euros(file.ledger.credit)) }
        }
        (children(&file))
        section aria-labelledby="reserver" {
            h2 id="reserver" { "Réserver pour un enfant" }
            p class="note" {
                "Les règles de la famille s'appliquent (date limite, places, un repas par jour). La "
                "réservation est confirmée aussitôt : sur une période prépayée, la famille la paie "
                "ensuite dans le délai."
            }
            form method="post" action=(format!("{}/reservation", file_path(family_id))) class="stack" {
                (csrf_field(csrf))
                p {
                    label for="enfant" { "Enfant" }
                    select id="enfant" name="enfant" required {
                        @for child in &file.family.children {
                            option value=(child.id) { (child.first_name) " " (child.last_name) }
                        }
                    }
                }
                p {
                    label for="periode" { "Période" }
                    select id="periode" name="periode" required {
                        @for p in &periods {
                            option value=(p.id) { (p.restaurant_name) " – " (p.activity) " " (p.label) }
                        }
                    }
                }
                p { label for="du" { "Du" } input id="du" name="du" type="date" required; }
                p {
                    label for="au" { "Au (inclus ; vide : ce jour seulement)" }
                    input id="au" name="au" type="date";
                }
                p { button type="submit" class="primary" { "Réserver" } }
            }
        }
        (reservations_section(&file, family_id, csrf))
        (invoices_section(&file))
        (ledger_section(&file))
    };
    Ok(render(
        status,
        page(
            &format!("Dossier de la famille {}", file.family.name),
            Some(&context.nav()),
            content,
        ),
    ))
}

fn calendar_word(status: CalendarStatus) -> &'static str {
    match status {
        CalendarStatus::Booked => "réservé",
        CalendarStatus::Requested => "demande non confirmée",
        CalendarStatus::AwaitingPayment => "en attente de paiement",
        CalendarStatus::Available => "libre",
        CalendarStatus::Full => "complet",
        CalendarStatus::Closed => "fermé",
        CalendarStatus::PastCutoff => "date limite passée",
    }
}

fn children(file: &FamilyFile) -> Markup {
    html! {
        section aria-labelledby="enfants" {
            h2 id="enfants" { "Enfants et leur mois (" (file.month) ")" }
            @for child in &file.children {
                h3 { (child.name) }
                @match &child.period {
                    None => p { "Aucune réservation." },
                    Some(period) => {
                        p { (period) }
                        @let held: Vec<_> = child.days.iter().filter(|d| matches!(
                            d.status,
                            CalendarStatus::Booked | CalendarStatus::AwaitingPayment | CalendarStatus::Requested
                        )).collect();
                        @if held.is_empty() {
                            p { "Aucun repas ce mois-ci." }
                        } @else {
                            ul class="days" {
                                @for d in held {
                                    li { (date(d.date)) " : " (calendar_word(d.status)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn reservations_section(file: &FamilyFile, family_id: Uuid, csrf: &str) -> Markup {
    html! {
        section aria-labelledby="reservations" {
            h2 id="reservations" { "Réservations" }
            @if file.reservations.is_empty() {
                p { "Aucune réservation." }
            }
            @for r in &file.reservations {
                @let (sign, words) = reservation_state(r.status);
                article class="card" aria-labelledby=(format!("r-{}", r.id)) {
                    h3 id=(format!("r-{}", r.id)) { "N° " (r.number) " – " (r.child) }
                    p {
                        (r.establishment) " – " (r.period) br;
                        "Du " (date(r.first_day)) " au " (date(r.last_day)) " · " (euros(r.total)) " · "
                        (sign) " " (words)
                    }
                    details {
                        summary { "Événements de la réservation" }
                        ul {
                            @for e in file.events.get(&r.id.to_string()).into_iter().flatten() {
                                li {
                                    (date_time(e.recorded_at)) " · " (e.event_type) " · "
                                    (e.metadata["actor_role"].as_str().unwrap_or("—"))
                                    @if let Some(reason) = e.payload["DaysCancelled"]["late"]["reason"].as_str() {
                                        " · motif : " (LateReason::parse(reason).map_or(reason.to_string(), |r| r.french().to_string()))
                                    }
                                }
                            }
                        }
                    }
                    @if cancellable(r.status) {
                        form method="post" action=(format!("/gestion/reservations/{}/annulation?famille={family_id}", r.id)) class="row" {
                            (csrf_field(csrf))
                            p class="field" {
                                label for=(format!("jour-{}", r.id)) { "Jour à annuler (vide : tous)" }
                                input id=(format!("jour-{}", r.id)) name="jour" type="date";
                            }
                            p class="field" {
                                label for=(format!("motif-{}", r.id)) { "Motif (après la date limite)" }
                                select id=(format!("motif-{}", r.id)) name="motif" {
                                    option value="" { "Aucun (avant la date limite)" }
                                    @for reason in LateReason::ALL {
                                        option value=(reason.as_str()) { (reason.french()) }
                                    }
                                }
                            }
                            p class="field" { button type="submit" { "Annuler pour la famille" } }
                        }
                    }
                }
            }
        }
    }
}

/// Days still held can be cancelled.
fn cancellable(status: ReservationStatus) -> bool {
    use ReservationStatus::*;
    matches!(status, Requested | AwaitingPayment | Paid | Confirmed)
}

fn kind_word(kind: InvoiceKind) -> &'static str {
    match kind {
        InvoiceKind::Payment => "Facture (payée en ligne)",
        InvoiceKind::Monthly => "Facture mensuelle",
        InvoiceKind::CreditNote => "Avoir",
    }
}

fn invoices_section(file: &FamilyFile) -> Markup {
    html! {
        section aria-labelledby="factures" {
            h2 id="factures" { "Factures et avoirs" }
            @if file.invoices.is_empty() {
                p { "Aucune facture." }
            } @else {
                div class="scroll" {
                    table class="stack" {
                        caption { "Factures et avoirs de la famille" }
                        thead { tr { th scope="col" { "Numéro" } th scope="col" { "Nature" } th scope="col" { "Émise le" } th scope="col" class="number" { "Montant" } } }
                        tbody {
                            @for i in &file.invoices {
                                tr {
                                    th scope="row" data-label="Numéro" { (i.number) }
                                    td data-label="Nature" { (kind_word(i.kind)) }
                                    td data-label="Émise le" { (date_time(i.issued_at)) }
                                    td class="number" data-label="Montant" { (euros(i.total)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn entry_word(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Invoice => "Facture",
        EntryKind::CreditNote => "Avoir",
        EntryKind::Payment => "Paiement",
        EntryKind::Refund => "Remboursement",
    }
}

fn ledger_section(file: &FamilyFile) -> Markup {
    html! {
        section aria-labelledby="releve" {
            h2 id="releve" { "Relevé de compte" }
            @if file.ledger.entries.is_empty() {
                p { "Aucune écriture." }
            } @else {
                div class="scroll" {
                    table class="stack" {
                        caption { "Écritures, de la plus ancienne à la plus récente" }
                        thead { tr { th scope="col" { "Date" } th scope="col" { "Nature" } th scope="col" { "Pièce" } th scope="col" class="number" { "Montant" } th scope="col" class="number" { "Solde" } } }
                        tbody {
                            @for e in &file.ledger.entries {
                                tr {
                                    th scope="row" data-label="Date" { (date_time(e.at)) }
                                    td data-label="Nature" { (entry_word(e.kind)) }
                                    td data-label="Pièce" { (e.reference) }
                                    td class="number" data-label="Montant" { (euros(e.amount)) }
                                    td class="number" data-label="Solde" { (euros(e.balance)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct BookForm {
    pub enfant: Uuid,
    pub periode: Uuid,
    pub du: NaiveDate,
    pub au: Option<String>,
}

fn refusal(error: AppError) -> StaffResult<(StatusCode, String)> {
    let error = ApiError::from(error);
    if error.status.is_server_error() {
        return Err(error.into());
    }
    let mut text = french_message(&error);
    if let Some(days) = &error.days {
        let days: Vec<String> = days.iter().map(|d| date(*d)).collect();
        text.push_str(&format!(" ({})", days.join(", ")));
    }
    Ok((error.status, text))
}

pub async fn book(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(family_id): ApiPath<Uuid>,
    ApiForm(form): ApiForm<BookForm>,
) -> StaffResult<Response> {
    let to = form
        .au
        .as_deref()
        .filter(|t| !t.is_empty())
        .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok());
    // One day exactly, or every opening day of a range (what cannot be booked is reported).
    let days = match to {
        None => RequestedDays::Explicit(vec![form.du]),
        Some(to) => RequestedDays::Selection(DaySelection::Weekdays {
            weekdays: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ],
            from: form.du,
            to,
        }),
    };
    let partial = to.is_some();
    let result = reservations::request_on_behalf(
        &state,
        &caller,
        family_id,
        form.enfant,
        form.periode,
        days,
        partial,
    )
    .await;
    let (outcome, status) = match result {
        Ok((requested, confirmed)) => {
            let mut lines = requested.recap;
            lines.push(format!(
                "Réservation N° {} : {}.",
                requested.number,
                reservation_state(confirmed.status).1
            ));
            (Outcome::Done(lines), StatusCode::OK)
        }
        Err(e) => {
            let (status, why) = refusal(e)?;
            (
                Outcome::Refused(format!("Rien n'a été réservé : {why}")),
                status,
            )
        }
    };
    file_page(&state, &caller, family_id, Some(outcome), status).await
}

#[derive(Deserialize)]
pub struct FamilyQuery {
    pub famille: Uuid,
}

#[derive(Deserialize)]
pub struct CancelForm {
    pub jour: Option<String>,
    pub motif: Option<String>,
}

pub async fn cancel(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    crate::web::extract::ApiQuery(query): crate::web::extract::ApiQuery<FamilyQuery>,
    ApiForm(form): ApiForm<CancelForm>,
) -> StaffResult<Response> {
    let day = form
        .jour
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d"))
        .transpose()
        .map_err(|_| ApiError::bad_request("invalid_parameter", "the day is YYYY-MM-DD"))?;
    let reason = form.motif.as_deref().filter(|t| !t.is_empty()).map(|t| {
        LateReason::parse(t)
            .ok_or_else(|| ApiError::bad_request("invalid_reason", "an unknown reason"))
    });
    let reason = reason.transpose()?;
    let result =
        reservations::cancel_on_behalf(&state, &caller, id, day.map(|d| vec![d]), reason).await;
    let (outcome, status) = match result {
        Ok(cancelled) => {
            let days: Vec<String> = cancelled.cancelled_days.iter().map(|d| date(*d)).collect();
            let mut lines = vec![format!("Annulé : {}.", days.join(", "))];
            if let Some(late) = &cancelled.late {
                lines.push(format!(
                    "Après la date limite, motif « {} » : {} ({}).",
                    late.reason.french(),
                    late.outcome.french(),
                    euros(late.amount)
                ));
            }
            if let Some(note) = &cancelled.credit_note {
                lines.push(format!("Avoir {} de {}.", note.number, euros(note.total)));
            }
            (Outcome::Done(lines), StatusCode::OK)
        }
        Err(e) => {
            let (status, why) = refusal(e)?;
            (
                Outcome::Refused(format!("Rien n'a été annulé : {why}")),
                status,
            )
        }
    };
    file_page(&state, &caller, query.famille, Some(outcome), status).await
}
