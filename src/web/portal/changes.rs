//! The second guide's step 6 when booked days are ticked for cancelling: the recap of every
//! change (days added, with the estimate; days cancelled, with the credit or what no longer has
//! to be paid), then the confirmation, then the result day by day with its counts ("Nombre de
//! réservations effectuées avec succès", "… annulées").
//!
//! What the family chose travels in the address and the form (a `Plan`), never in a server-side
//! store: every step checks it again against the family's own reservations. Days are added by
//! the reservation use cases (already done when the recap shows: the places are held),
//! confirmed, and cancelled (which issues the credit note of paid days); nothing here decides
//! what the domain decides.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::NaiveDate;
use maud::{html, Markup};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::booking::{child_of, find_period};
use super::context::Context;
use super::reservation::{refusal_items, refused_days};
use crate::app::queries::history::{self, ReservationDetail};
use crate::app::{reservations, Cantine};
use crate::domain::reservation::{DayStatus, ReservationStatus};
use crate::web::error::ApiError;
use crate::web::extract::Caller;
use crate::web::pages::error::{french_for_code, PortalError, PortalResult};
use crate::web::pages::format::{date, date_time, day, estimate, euros};
use crate::web::pages::layout::{csrf_field, ok, page, see_other};

/// What the family chose on the calendar.
pub struct Plan {
    pub child: Uuid,
    pub period: Uuid,
    pub month: Option<String>,
    /// The request made of the ticked free days (or the bulk choice), not confirmed yet.
    pub added: Option<Uuid>,
    /// Booked days to cancel, each with its reservation.
    pub cancel: Vec<(Uuid, NaiveDate)>,
}

/// The pairs of an url-encoded form or query. The plan's values are ids, dates and codes,
/// which need no decoding.
pub fn pairs(text: &str) -> Vec<(&str, &str)> {
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .collect()
}

/// `{reservation}_{date}`, the value of a calendar box for a booked day.
pub fn parse_booked(value: &str) -> Option<(Uuid, NaiveDate)> {
    let (id, d) = value.split_once('_')?;
    Some((id.parse().ok()?, d.parse().ok()?))
}

fn bad_plan() -> PortalError {
    PortalError(ApiError::bad_request(
        "malformed_body",
        "the recap's choices are incomplete",
    ))
}

fn is_month(m: &str) -> bool {
    crate::domain::period::month_bounds(m).is_some()
}

impl Plan {
    pub fn parse(pairs: &[(&str, &str)]) -> PortalResult<Plan> {
        let one = |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let uuid = |name: &str| one(name).and_then(|v| v.parse::<Uuid>().ok());
        let cancel: Option<Vec<(Uuid, NaiveDate)>> = pairs
            .iter()
            .filter(|(k, _)| *k == "annuler")
            .map(|(_, v)| parse_booked(v))
            .collect();
        Ok(Plan {
            child: uuid("enfant").ok_or_else(bad_plan)?,
            period: uuid("periode").ok_or_else(bad_plan)?,
            month: one("mois").filter(|m| is_month(m)).map(str::to_string),
            added: match one("ajout") {
                Some(v) => Some(v.parse().map_err(|_| bad_plan())?),
                None => None,
            },
            cancel: cancel.ok_or_else(bad_plan)?,
        })
    }

    /// The plan as the recap's address.
    pub fn recap_path(&self) -> String {
        let mut path = format!("/reservation/recapitulatif?{}", self.base_query(self.added));
        for (id, d) in &self.cancel {
            path.push_str(&format!("&annuler={id}_{d}"));
        }
        path
    }

    fn base_query(&self, added: Option<Uuid>) -> String {
        let mut query = format!("enfant={}&periode={}", self.child, self.period);
        if let Some(month) = &self.month {
            query.push_str(&format!("&mois={month}"));
        }
        if let Some(id) = added {
            query.push_str(&format!("&ajout={id}"));
        }
        query
    }

    fn calendar_path(&self) -> String {
        let mut path = format!(
            "/reservation/calendrier?enfant={}&periode={}",
            self.child, self.period
        );
        if let Some(month) = &self.month {
            path.push_str(&format!("&mois={month}"));
        }
        path
    }

    fn hidden_fields(&self, cancel: &[(Uuid, NaiveDate)]) -> Markup {
        html! {
            input type="hidden" name="enfant" value=(self.child);
            input type="hidden" name="periode" value=(self.period);
            @if let Some(month) = &self.month { input type="hidden" name="mois" value=(month); }
            @if let Some(id) = self.added { input type="hidden" name="ajout" value=(id); }
            @for (id, d) in cancel { input type="hidden" name="annuler" value={(id) "_" (d)}; }
        }
    }

    /// The plan's reservations to cancel from, in order, with their days.
    fn by_reservation(&self) -> BTreeMap<Uuid, Vec<NaiveDate>> {
        let mut groups: BTreeMap<Uuid, Vec<NaiveDate>> = BTreeMap::new();
        for (id, d) in &self.cancel {
            let days = groups.entry(*id).or_default();
            if !days.contains(d) {
                days.push(*d);
            }
        }
        for days in groups.values_mut() {
            days.sort();
        }
        groups
    }
}

/// A day the family asked to cancel, as it stands before the confirmation.
struct Wanted {
    reservation: Uuid,
    number: String,
    date: NaiveDate,
    price: Decimal,
    /// The reservation is paid: the day comes back as a credit note.
    paid: bool,
    /// Why it cannot be cancelled, in French, when it cannot.
    refusal: Option<&'static str>,
}

const PAST_CUTOFF: &str = "Délai d'annulation dépassé";
const NOT_BOOKED: &str = "Ce jour n'est pas réservé, ou il est déjà annulé";

/// Each asked day checked against its reservation, read as the family's (404 otherwise) and
/// asked of the domain whether its cancellation cut-off has passed.
async fn check(state: &Cantine, caller: &Caller, plan: &Plan) -> PortalResult<Vec<Wanted>> {
    let mut wanted = Vec::new();
    for (id, days) in plan.by_reservation() {
        let detail = reservation(state, caller, id).await?;
        let past = reservations::past_cancellation_cutoff(state, id, &days).await?;
        for d in days {
            let held = detail.active_days().find(|x| x.date == d);
            let refusal = match held {
                None => Some(NOT_BOOKED),
                Some(_) if past.contains(&d) => Some(PAST_CUTOFF),
                Some(_) => None,
            };
            wanted.push(Wanted {
                reservation: id,
                number: detail.item.number.to_string(),
                date: d,
                price: held.map(|x| x.unit_price).unwrap_or_default(),
                paid: detail.item.status == ReservationStatus::Paid,
                refusal,
            });
        }
    }
    wanted.sort_by_key(|w| w.date);
    Ok(wanted)
}

/// A reservation as this caller may read it: 404 unless it is the family's.
async fn reservation(
    state: &Cantine,
    caller: &Caller,
    id: Uuid,
) -> PortalResult<ReservationDetail> {
    Ok(history::detail(state, caller, id).await?)
}

fn added_lines(detail: &ReservationDetail, verb: &str) -> Vec<(NaiveDate, Decimal, String)> {
    detail
        .active_days()
        .map(|d| {
            (
                d.date,
                d.unit_price,
                format!("{verb} : {} - Prix : {}", date(d.date), euros(d.unit_price)),
            )
        })
        .collect()
}

/// The estimate of the added days, one line per unit price.
fn estimate_lines(days: &[(NaiveDate, Decimal, String)]) -> Vec<String> {
    let mut by_price: BTreeMap<Decimal, usize> = BTreeMap::new();
    for (_, price, _) in days {
        *by_price.entry(*price).or_default() += 1;
    }
    by_price
        .into_iter()
        .map(|(price, n)| estimate(n, price))
        .collect()
}

async fn child_name(context: &Context, plan: &Plan) -> PortalResult<String> {
    let child = child_of(context, plan.child)?;
    Ok(format!("{} {}", child.first_name, child.last_name))
}

pub async fn recap(
    State(state): State<Cantine>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> PortalResult<Response> {
    let query = query.unwrap_or_default();
    let plan = Plan::parse(&pairs(&query))?;
    let context = Context::load(&state, &caller, "/reservation/nouvelle").await?;
    let child = child_name(&context, &plan).await?;
    let (restaurant, period) = find_period(&state, &caller, plan.period).await?;
    let added = match plan.added {
        Some(id) => Some(reservation(&state, &caller, id).await?),
        None => None,
    };
    let refused_added = match plan.added {
        Some(id) => refused_days(&state, id).await?,
        None => Vec::new(),
    };
    let wanted = check(&state, &caller, &plan).await?;
    let added_days = added
        .as_ref()
        .map(|d| added_lines(d, "Réservation ajoutée"))
        .unwrap_or_default();
    let to_cancel: Vec<&Wanted> = wanted.iter().filter(|w| w.refusal.is_none()).collect();
    let cancelled_total: Decimal = to_cancel.iter().map(|w| w.price).sum();
    let credit: Decimal = to_cancel.iter().filter(|w| w.paid).map(|w| w.price).sum();
    let added_total: Decimal = added_days.iter().map(|(_, p, _)| *p).sum();
    let kept: Vec<(Uuid, NaiveDate)> = to_cancel.iter().map(|w| (w.reservation, w.date)).collect();
    let nothing = added_days.is_empty() && to_cancel.is_empty();
    let content = html! {
        p { "Activité : " strong { (restaurant) " – " (period.activity) " " (period.label) } }
        h2 { "Détail des modifications de " (child) }
        p class="info" { "Vérifiez vos choix : rien n'est annulé, et les jours ajoutés ne sont réservés définitivement, qu'après votre confirmation." }
        @if !added_days.is_empty() || !refused_added.is_empty() {
            section aria-labelledby="ajouts" class="card" {
                h3 id="ajouts" { "Repas à réserver" }
                ul class="plain" {
                    @for (_, _, line) in &added_days { li class="added" { span aria-hidden="true" { "+ " } (line) } }
                    (refusal_items(&refused_added))
                }
                @if !added_days.is_empty() {
                    p { "Estimation : " @for (i, line) in estimate_lines(&added_days).iter().enumerate() { @if i > 0 { " ; " } strong { (line) } } }
                }
            }
        }
        @if !wanted.is_empty() {
            section aria-labelledby="annulations" class="card" {
                h3 id="annulations" { "Repas à annuler" }
                ul class="plain" {
                    @for w in &wanted {
                        @match w.refusal {
                            None => li class="cancelled" {
                                span aria-hidden="true" { "− " }
                                "Annulation : " (day(w.date)) " - Prix : " (euros(w.price))
                                " (réservation n° " (w.number) ")"
                            },
                            Some(reason) => li class="refused" {
                                span aria-hidden="true" { "× " }
                                "Ne peut pas être annulé : " (day(w.date)) " - " (reason)
                            },
                        }
                    }
                }
                @if !to_cancel.is_empty() {
                    p { "Montant des repas annulés : " strong { (euros(cancelled_total)) } "." }
                    @if !credit.is_zero() {
                        p { "Ces repas sont déjà payés : un avoir de " strong { (euros(credit)) }
                            " sera crédité sur votre compte et déduit de votre prochain paiement." }
                    }
                    @if credit < cancelled_total {
                        p { "Repas non payés : ils ne vous seront pas facturés ("
                            (euros(cancelled_total - credit)) " de moins à régler)." }
                    }
                }
            }
        }
        @if nothing {
            p class="alert" role="alert" { "Aucune modification possible : revenez au planning pour choisir d'autres jours." }
            p { a href=(plan.calendar_path()) { "Retour au planning" } }
        } @else {
            @if !added_days.is_empty() {
                p { "Total des repas ajoutés : " strong { (euros(added_total)) } "." }
            }
            form method="post" action="/reservation/recapitulatif" class="actions" {
                (csrf_field(&context.csrf))
                (plan.hidden_fields(&kept))
                a href=(plan.calendar_path()) { "Retour au planning" }
                " "
                button type="submit" class="primary" { "Confirmer les modifications" }
            }
        }
        @if let Some(id) = plan.added {
            p class="actions" {
                a class="button" href={"/reservations/" (id) "/annuler"} { "Abandonner les jours ajoutés" }
            }
        }
    };
    Ok(ok(page(
        "Récapitulatif de vos modifications",
        Some(&context.nav()),
        content,
    )))
}

/// What the confirmation did, carried to the result page's address.
#[derive(Default)]
struct Outcome {
    cancelled: Vec<(Uuid, NaiveDate)>,
    refused: Vec<(Uuid, NaiveDate, String)>,
    credit_notes: Vec<String>,
    added_refused: Option<String>,
}

pub async fn confirm(
    State(state): State<Cantine>,
    caller: Caller,
    body: Bytes,
) -> PortalResult<Response> {
    let text = std::str::from_utf8(&body).map_err(|_| bad_plan())?;
    let plan = Plan::parse(&pairs(text))?;
    let context = Context::load(&state, &caller, "/reservation/nouvelle").await?;
    child_of(&context, plan.child)?;
    // Every reservation named must be the family's before anything is done (404 otherwise).
    let wanted = check(&state, &caller, &plan).await?;
    let mut outcome = Outcome::default();
    if let Some(id) = plan.added {
        let _own = reservation(&state, &caller, id).await?;
        if let Err(e) = reservations::confirm(&state, &caller, id).await {
            let e = ApiError::from(e);
            match e.code {
                // The form posted again (the back button): the days stand, nothing was refused.
                "already_confirmed" => {}
                _ if e.status.is_client_error() => outcome.added_refused = Some(e.code.into()),
                _ => return Err(e.into()),
            }
        }
    }
    let mut groups: BTreeMap<Uuid, Vec<NaiveDate>> = BTreeMap::new();
    for w in &wanted {
        match w.refusal {
            None => groups.entry(w.reservation).or_default().push(w.date),
            Some(reason) => {
                let code = if reason == PAST_CUTOFF {
                    "past_cutoff"
                } else {
                    "unknown_days"
                };
                outcome.refused.push((w.reservation, w.date, code.into()));
            }
        }
    }
    for (id, days) in groups {
        match reservations::cancel(&state, &caller, id, Some(days.clone())).await {
            Ok(done) => {
                outcome
                    .cancelled
                    .extend(done.cancelled_days.iter().map(|d| (id, *d)));
                outcome
                    .credit_notes
                    .extend(done.credit_note.map(|note| note.number));
            }
            Err(e) => {
                let e = ApiError::from(e);
                if !e.status.is_client_error() {
                    return Err(e.into());
                }
                // The domain has the last word: a cut-off passed since the recap, say.
                outcome
                    .refused
                    .extend(days.iter().map(|d| (id, *d, e.code.to_string())));
            }
        }
    }
    let mut path = format!("/reservation/bilan?{}", plan.base_query(plan.added));
    for (id, d) in &outcome.cancelled {
        path.push_str(&format!("&annule={id}_{d}"));
    }
    for (id, d, code) in &outcome.refused {
        path.push_str(&format!("&refus={id}_{d}_{code}"));
    }
    for number in &outcome.credit_notes {
        path.push_str(&format!("&avoir={number}"));
    }
    if let Some(code) = &outcome.added_refused {
        path.push_str(&format!("&ajout_refus={code}"));
    }
    Ok(see_other(&path))
}

/// A refused cancellation's reason, from the domain's code.
fn cancel_refusal(code: &str) -> String {
    match code {
        "past_cutoff" => PAST_CUTOFF.to_string(),
        "unknown_days" => NOT_BOOKED.to_string(),
        other => french_for_code(other)
            .unwrap_or("Refusé par le service")
            .to_string(),
    }
}

pub async fn result(
    State(state): State<Cantine>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> PortalResult<Response> {
    let query = query.unwrap_or_default();
    let pairs = pairs(&query);
    let plan = Plan::parse(&pairs)?;
    let context = Context::load(&state, &caller, "/reservation/nouvelle").await?;
    let child = child_name(&context, &plan).await?;
    let (restaurant, period) = find_period(&state, &caller, plan.period).await?;
    let values = |name: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .collect()
    };
    // What the address says was cancelled is shown only when the reservation says so too.
    let mut details: BTreeMap<Uuid, ReservationDetail> = BTreeMap::new();
    let claimed: Vec<(Uuid, NaiveDate)> = values("annule")
        .into_iter()
        .filter_map(parse_booked)
        .collect();
    let refusals: Vec<(Uuid, NaiveDate, &str)> = values("refus")
        .into_iter()
        .filter_map(|v| {
            let mut parts = v.splitn(3, '_');
            let (id, d, code) = (parts.next()?, parts.next()?, parts.next()?);
            Some((id.parse().ok()?, d.parse().ok()?, code))
        })
        .collect();
    let named = claimed
        .iter()
        .map(|(id, _)| id)
        .chain(refusals.iter().map(|(id, _, _)| id));
    for id in named {
        if !details.contains_key(id) {
            let detail = reservation(&state, &caller, *id).await?;
            details.insert(*id, detail);
        }
    }
    let mut cancelled: Vec<(NaiveDate, Decimal)> = claimed
        .iter()
        .filter_map(|(id, d)| {
            details[id]
                .days
                .iter()
                .find(|x| x.date == *d && x.status == DayStatus::Cancelled)
                .map(|x| (x.date, x.unit_price))
        })
        .collect();
    cancelled.sort();
    cancelled.dedup();
    // A refusal is shown only for a day the reservation still holds.
    let mut refused: Vec<(NaiveDate, String)> = refusals
        .iter()
        .filter(|(id, d, _)| {
            details[id]
                .days
                .iter()
                .any(|x| x.date == *d && x.status != DayStatus::Cancelled)
        })
        .map(|(_, d, code)| (*d, cancel_refusal(code)))
        .collect();
    refused.sort();
    let added = match plan.added {
        Some(id) => Some(reservation(&state, &caller, id).await?),
        None => None,
    };
    let added_refused = values("ajout_refus").first().map(|code| {
        french_for_code(code)
            .unwrap_or("refusé par le service")
            .to_string()
    });
    let added_days = match (&added, &added_refused) {
        (Some(detail), None) => added_lines(detail, "Réservation ajoutée"),
        _ => Vec::new(),
    };
    let refused_added = match (plan.added, &added_refused) {
        (Some(id), None) => refused_days(&state, id).await?,
        _ => Vec::new(),
    };
    let numbers: Vec<String> = values("avoir").into_iter().map(String::from).collect();
    let credit_notes = reservations::credit_notes_numbered(&state, &caller, &numbers).await?;
    let awaiting = added
        .as_ref()
        .filter(|d| d.item.status == ReservationStatus::AwaitingPayment && added_refused.is_none());
    let content = html! {
        p { "Activité : " strong { (restaurant) " – " (period.activity) " " (period.label) } }
        h2 { "Détail des réservations de " (child) }
        @if let Some(message) = &added_refused {
            p class="alert" role="alert" { "Les jours ajoutés n'ont pas été réservés : " (message) }
        }
        ul class="plain outcome" {
            @for (_, _, line) in &added_days { li class="added" { span aria-hidden="true" { "+ " } (line) } }
            (refusal_items(&refused_added))
            @for (d, price) in &cancelled {
                li class="cancelled" { span aria-hidden="true" { "− " } "Réservation annulée : " (date(*d)) " - Prix : " (euros(*price)) }
            }
            @for (d, reason) in &refused {
                li class="refused" { span aria-hidden="true" { "× " } "Non annulé : " (date(*d)) " - " (reason) }
            }
        }
        section aria-labelledby="resume" class="card" role="status" {
            h2 id="resume" { "Résumé des réservations" }
            p { "Nombre de réservations effectuées avec succès : " strong { (added_days.len()) } }
            p { "Nombre de réservations annulées : " strong { (cancelled.len()) } }
            @if !refused.is_empty() || !refused_added.is_empty() {
                p { "Nombre de jours refusés : " strong { (refused.len() + refused_added.len()) } }
            }
        }
        @for note in &credit_notes {
            p class="info" {
                "Avoir n° " (note.number) " du " (date_time(note.issued_at)) " : "
                strong { (euros(note.total)) } " crédités sur votre compte, déduits de votre prochain paiement. "
                a href={"/factures/" (note.invoice_id)} { "Voir l'avoir " (note.number) }
            }
        }
        @if let Some(detail) = awaiting {
            p class="info" {
                "Les repas ajoutés sont à payer en ligne"
                @if let Some(deadline) = detail.item.pay_before { " avant " strong { (crate::web::pages::format::time(deadline)) } }
                " : " a href="/panier" { "accéder à mon panier" } "."
            }
        }
        p class="note" {
            "En cliquant sur « Continuer », vous retrouvez le planning de votre enfant. Légende : "
            "● réservé (violet), ○ libre (blanc), ■ complet (rose)."
        }
        p class="actions" {
            a class="button primary" href=(plan.calendar_path()) { "Continuer" }
            a href="/compte/releve" { "Relevé de compte" }
        }
    };
    Ok(ok(page(
        "Récapitulatif de vos actions",
        Some(&context.nav()),
        content,
    )))
}
