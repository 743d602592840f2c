//! The month calendar (first guide step 6, second guide step 5): each day's status in words, a
//! sign and a colour, checkboxes for the free days, and the bulk choices ("+ cette semaine",
//! "+ tous les lundis", "+ tous les jours de l'année"). Validating requests the days, or the
//! bulk choice, through the reservation use case; the recap follows.
//!
//! Booked days still before their cancellation cut-off carry a box too (second guide step 5,
//! "réservations ou annulations"): ticked, they go to the recap of both kinds of change
//! (`changes.rs`), where nothing is cancelled before the family confirms.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, Duration, NaiveDate};
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::{BTreeSet, HashSet};
use uuid::Uuid;

use super::booking::{child_of, find_period, prices_markup, rules};
use super::changes::{parse_booked, Plan};
use super::context::Context;
use crate::app::queries::family::{self, Calendar, CalendarStatus, Period};
use crate::app::queries::history;
use crate::app::{reservations, Cantine};
use crate::domain::period::{month_bounds, PaymentMode, Weekday};
use crate::domain::reservation::RequestedDays;
use crate::domain::selection::DaySelection;
use crate::web::error::ApiError;
use crate::web::extract::{ApiQuery, Caller};
use crate::web::pages::error::{french_message, PortalError, PortalResult};
use crate::web::pages::format::{day, month_name};
use crate::web::pages::guard::form_field;
use crate::web::pages::layout::{csrf_field, page, render, see_other};

#[derive(Deserialize)]
pub struct Choice {
    pub enfant: Uuid,
    pub periode: Uuid,
    /// `YYYY-MM`; today's month within the period otherwise.
    pub mois: Option<String>,
}

/// Each status: its words and a sign (so that colour is never the only cue); its CSS class is
/// `status-` and its code.
fn status_words(status: CalendarStatus) -> (&'static str, &'static str) {
    match status {
        CalendarStatus::Booked => ("Réservé", "●"),
        CalendarStatus::Requested => ("En attente de confirmation", "◌"),
        CalendarStatus::AwaitingPayment => ("En attente de paiement", "◐"),
        CalendarStatus::Available => ("Libre", "○"),
        CalendarStatus::Full => ("Complet", "■"),
        CalendarStatus::Closed => ("Fermé", "—"),
        CalendarStatus::PastCutoff => ("Délai dépassé", "×"),
    }
}

const WEEKDAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "lundis"),
    (Weekday::Tue, "mardis"),
    (Weekday::Wed, "mercredis"),
    (Weekday::Thu, "jeudis"),
    (Weekday::Fri, "vendredis"),
    (Weekday::Sat, "samedis"),
    (Weekday::Sun, "dimanches"),
];

fn month_of(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

/// The month to show: the one asked for, else today's, kept within the period.
fn month_to_show(asked: Option<&str>, today: NaiveDate, period: &Period) -> String {
    if let Some(month) = asked.filter(|m| month_bounds(m).is_some()) {
        return month.to_string();
    }
    month_of(today.clamp(period.from, period.to))
}

fn legend() -> Markup {
    html! {
        section aria-labelledby="legende" class="legend" {
            h2 id="legende" { "Légende" }
            ul {
                @for status in CalendarStatus::ALL {
                    @let (words, sign) = status_words(status);
                    li class={"day status-" (status.as_str())} {
                        span class="sign" aria-hidden="true" { (sign) } " " (words)
                    }
                }
                li class="day status-closed no-service" {
                    span class="sign" aria-hidden="true" { "·" } " " (NO_SERVICE)
                }
            }
        }
    }
}

/// A weekday the canteen never opens on (a Wednesday, a Sunday): greyed, not "Fermé".
const NO_SERVICE: &str = "Pas de service";

/// A day's words and sign: a closed day says why (its closure's label), a weekday without
/// service says so.
fn day_words(d: &family::CalendarDay) -> (String, &'static str) {
    let (words, sign) = status_words(d.status);
    if let Some(position) = d.waiting_position {
        return (
            format!("{words} – En liste d'attente (position {position})"),
            "⧗",
        );
    }
    match (d.status, &d.closure) {
        (CalendarStatus::Closed, _) if !d.service_weekday => (NO_SERVICE.to_string(), "·"),
        (CalendarStatus::Closed, Some(label)) => (format!("Fermé : {label}"), sign),
        _ => (words.to_string(), sign),
    }
}

/// The day's classes: its status, its column in the week (Monday 1 … Sunday 7), and greyed
/// when the canteen never opens on its weekday.
fn day_class(d: &family::CalendarDay) -> String {
    let column = d.date.weekday().number_from_monday();
    let no_service = if d.status == CalendarStatus::Closed && !d.service_weekday {
        " no-service"
    } else {
        ""
    };
    format!("day status-{} wd-{column}{no_service}", d.status.as_str())
}

/// What the family ticked and has not validated yet: carried from month to month in the
/// address (`jour`, `annuler`) and in the form (hidden fields for the other months' days) until
/// "Valider le planning". Nothing is stored: the next form posts it back.
#[derive(Default)]
pub(super) struct Carried {
    days: BTreeSet<NaiveDate>,
    cancel: BTreeSet<(Uuid, NaiveDate)>,
}

impl Carried {
    /// From a form's or an address's pairs; what does not parse is dropped.
    fn from_pairs(pairs: &[(&str, &str)]) -> Carried {
        Carried {
            days: pairs
                .iter()
                .filter(|(k, _)| *k == "jour")
                .filter_map(|(_, v)| v.parse().ok())
                .collect(),
            cancel: pairs
                .iter()
                .filter(|(k, _)| *k == "annuler")
                .filter_map(|(_, v)| parse_booked(v))
                .collect(),
        }
    }

    fn query(&self) -> String {
        let mut query = String::new();
        for d in &self.days {
            query.push_str(&format!("&jour={d}"));
        }
        for (id, d) in &self.cancel {
            query.push_str(&format!("&annuler={id}_{d}"));
        }
        query
    }
}

struct View<'a> {
    context: &'a Context,
    child_name: String,
    restaurant: String,
    period: Period,
    calendar: Calendar,
    /// Booked days the family may still cancel.
    cancellable: HashSet<NaiveDate>,
    /// The month's requests not confirmed yet: id and number.
    requests: Vec<(Uuid, String)>,
    carried: Carried,
    error: Option<String>,
}

fn render_page(view: View, status: StatusCode) -> Response {
    let calendar = &view.calendar;
    let period = &view.period;
    let (first, last) = month_bounds(&calendar.month).expect("a month already checked");
    let previous = first - Duration::days(1);
    let next = last + Duration::days(1);
    let carried = &view.carried;
    let (month_first, month_last) = (first, last);
    let in_month = |d: &NaiveDate| *d >= month_first && *d <= month_last;
    // Ticks of other months travel as hidden fields; this month's show as ticked boxes.
    let elsewhere: Vec<NaiveDate> = carried
        .days
        .iter()
        .copied()
        .filter(|d| !in_month(d))
        .collect();
    let cancel_elsewhere: Vec<(Uuid, NaiveDate)> = carried
        .cancel
        .iter()
        .copied()
        .filter(|(_, d)| !in_month(d))
        .collect();
    // Weeks start on Monday, as in the guides' calendars.
    let mut weeks: Vec<Vec<&family::CalendarDay>> = Vec::new();
    for d in &calendar.days {
        if weeks.is_empty() || d.date.weekday() == chrono::Weekday::Mon {
            weeks.push(Vec::new());
        }
        weeks.last_mut().expect("a week").push(d);
    }
    let opening: Vec<(Weekday, &str)> = WEEKDAYS
        .into_iter()
        .filter(|(w, _)| period.opening_days.contains(w))
        .collect();
    let content = html! {
        p { "Votre sélection : " strong { (view.restaurant) " / " (period.label) } }
        details class="card" {
            summary { "Les règles de cette période" }
            (rules(&view.restaurant, period))
        }
        p class="rule" { (calendar.booking_rule) ". Prix du repas : " (prices_markup(&calendar.prices, calendar.quotient)) "." }
        @if let Some(error) = &view.error {
            p class="alert" role="alert" { (error) }
        }
        @for (id, number) in &view.requests {
            div class="alert" role="status" {
                p {
                    "La demande n° " (number) " n'est pas encore confirmée : ses jours ne sont pas réservés, "
                    "et leurs places sont libérées une heure après la demande sans confirmation."
                }
                p { a class="button primary" href={"/reservations/" (id)} { "Confirmer ou abandonner la demande n° " (number) } }
            }
        }
        // The months are buttons of the calendar's form, so that the days ticked go along.
        nav aria-label="Mois" class="months" {
            @if previous >= period.from.with_day(1).expect("day 1") {
                button type="submit" form="planning" name="choix" value={"mois-" (month_of(previous))} class="link" {
                    "← " (month_name(previous))
                }
            }
            h2 { (month_name(first)) }
            @if next <= period.to {
                button type="submit" form="planning" name="choix" value={"mois-" (month_of(next))} class="link" {
                    (month_name(next)) " →"
                }
            }
        }
        (legend())
        form id="planning" method="post" action="/reservation/calendrier" class="calendar" {
            (csrf_field(&view.context.csrf))
            @for d in &elsewhere { input type="hidden" name="jour" value=(d); }
            @for (id, d) in &cancel_elsewhere { input type="hidden" name="annuler" value={(id) "_" (d)}; }
            @if !elsewhere.is_empty() || !cancel_elsewhere.is_empty() {
                @let n = elsewhere.len() + cancel_elsewhere.len();
                p class="info" role="status" {
                    @if n == 1 { "1 jour coché dans un autre mois" } @else { (n) " jours cochés dans d'autres mois" }
                    " (" @for (i, d) in elsewhere.iter().chain(cancel_elsewhere.iter().map(|(_, d)| d)).enumerate() { @if i > 0 { ", " } (day(*d)) } ")"
                    " : gardé" @if n > 1 { "s" } " jusqu'à « Valider le planning »."
                }
            }
            input type="hidden" name="enfant" value=(calendar.child_id);
            input type="hidden" name="periode" value=(period.id);
            input type="hidden" name="mois" value=(calendar.month);
            p { "Cochez les jours souhaités pour le service " (period.service.label) " (" (period.service.start) " – " (period.service.end) "), puis validez le planning." }
            p { "Pour annuler un repas réservé, cochez-le aussi : rien n'est annulé avant la confirmation du récapitulatif. " (period.cancellation_rule) "." }
            div class="weekdays" aria-hidden="true" {
                @for name in ["Lun.", "Mar.", "Mer.", "Jeu.", "Ven.", "Sam.", "Dim."] { span { (name) } }
            }
            @for week in &weeks {
                @let monday = week[0].date - Duration::days(week[0].date.weekday().num_days_from_monday() as i64);
                fieldset class="week" {
                    legend { "Semaine du " (day(monday)) }
                    ul class="days" {
                        @for d in week {
                            @let (words, sign) = day_words(d);
                            @let id = format!("jour-{}", d.date);
                            li class=(day_class(d)) {
                                @if d.status == CalendarStatus::Available {
                                    input type="checkbox" id=(id) name="jour" value=(d.date) checked[carried.days.contains(&d.date)];
                                    label for=(id) {
                                        span class="date" { (day(d.date)) }
                                        span class="status" { span class="sign" aria-hidden="true" { (sign) } " " (words) }
                                    }
                                } @else if let (CalendarStatus::Requested, Some(reservation)) = (d.status, d.reservation_id) {
                                    span class="text" {
                                        span class="date" { (day(d.date)) }
                                        span class="status" { span class="sign" aria-hidden="true" { (sign) } " " (words) }
                                        a class="cancel-hint" href={"/reservations/" (reservation)} {
                                            "à confirmer" span class="visually-hidden" { " (" (day(d.date)) ")" }
                                        }
                                    }
                                } @else if let (Some(reservation), true) = (d.reservation_id, view.cancellable.contains(&d.date)) {
                                    @let id = format!("annuler-{}", d.date);
                                    input type="checkbox" id=(id) name="annuler" value={(reservation) "_" (d.date)} checked[carried.cancel.contains(&(reservation, d.date))];
                                    label for=(id) {
                                        span class="date" { (day(d.date)) }
                                        span class="status" { span class="sign" aria-hidden="true" { (sign) } " " (words) }
                                        span class="cancel-hint" { "cocher pour annuler" }
                                    }
                                } @else if d.reservation_id.is_some() {
                                    span class="text" {
                                        span class="date" { (day(d.date)) }
                                        span class="status" { span class="sign" aria-hidden="true" { (sign) } " " (words) }
                                        span class="cancel-hint" { "délai d'annulation dépassé" }
                                    }
                                } @else {
                                    span class="text" {
                                        span class="date" { (day(d.date)) }
                                        span class="status" { span class="sign" aria-hidden="true" { (sign) } " " (words) }
                                        @if d.status == CalendarStatus::Full {
                                            a class="cancel-hint" href=(super::waitlist::link(calendar.child_id, period.id, &[d.date])) {
                                                @if d.waiting_position.is_some() { "quitter la liste" } @else { "liste d'attente" }
                                                span class="visually-hidden" { " (" (day(d.date)) ")" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    button type="submit" name="choix" value={"semaine-" (monday)} class="bulk" {
                        "+ cette semaine" span class="visually-hidden" { " (semaine du " (day(monday)) ")" }
                    }
                }
            }
            p class="actions" {
                button type="submit" name="choix" value="jours" class="primary" { "Valider le planning" }
            }
            fieldset class="bulk-all" {
                legend { "Choix groupés (jours libres seulement, à confirmer sur le récapitulatif)" }
                @for (weekday, plural) in &opening {
                    button type="submit" name="choix" value={"tous-" (weekday_code(*weekday))} class="bulk" {
                        "+ tous les " (plural)
                    }
                }
                button type="submit" name="choix" value="annee" class="bulk" { "+ tous les jours de l'année" }
            }
        }
        p { a href={"/reservation/nouvelle?enfant=" (calendar.child_id)} { "Retour au choix de la période" } }
    };
    render(
        status,
        page(
            &format!("Planning de {}", view.child_name),
            Some(&view.context.nav()),
            content,
        ),
    )
}

fn weekday_code(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

async fn show(
    state: &Cantine,
    caller: &Caller,
    choice: Choice,
    carried: Carried,
    error: Option<(StatusCode, String)>,
) -> PortalResult<Response> {
    let context = Context::load(state, caller, "/reservation/nouvelle").await?;
    let child = child_of(&context, choice.enfant)?;
    let child_name = format!("{} {}", child.first_name, child.last_name);
    let (restaurant, period) = find_period(state, caller, choice.periode).await?;
    let month = month_to_show(choice.mois.as_deref(), state.clock.paris_today(), &period);
    let calendar = family::calendar(state, caller, choice.enfant, choice.periode, month).await?;
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let cancellable = cancellable_days(state, &calendar).await?;
    let requested: BTreeSet<Uuid> = calendar
        .days
        .iter()
        .filter(|d| d.status == CalendarStatus::Requested)
        .filter_map(|d| d.reservation_id)
        .collect();
    let mut requests = Vec::new();
    for id in requested {
        let detail = history::detail(state, caller, id).await?;
        requests.push((id, detail.item.number.to_string()));
    }
    Ok(render_page(
        View {
            context: &context,
            child_name,
            restaurant,
            period,
            calendar,
            cancellable,
            requests,
            carried,
            error,
        },
        status,
    ))
}

/// The booked days of the month whose reservation's own cancellation cut-off has not passed,
/// asked of the reservation aggregate (the rule the cancel command applies).
async fn cancellable_days(
    state: &Cantine,
    calendar: &Calendar,
) -> PortalResult<HashSet<NaiveDate>> {
    let held: BTreeSet<Uuid> = calendar
        .days
        .iter()
        .filter_map(|d| d.reservation_id)
        .collect();
    let mut cancellable = HashSet::new();
    for id in held {
        let days: Vec<NaiveDate> = calendar
            .days
            .iter()
            .filter(|d| d.reservation_id == Some(id))
            .map(|d| d.date)
            .collect();
        let past = reservations::past_cancellation_cutoff(state, id, &days).await?;
        cancellable.extend(days.into_iter().filter(|d| !past.contains(d)));
    }
    Ok(cancellable)
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(choice): ApiQuery<Choice>,
    RawQuery(query): RawQuery,
) -> PortalResult<Response> {
    let query = query.unwrap_or_default();
    let carried = Carried::from_pairs(&fields(query.as_bytes()));
    show(&state, &caller, choice, carried, None).await
}

/// The form's fields; `jour` repeats, which the usual form extractor cannot read.
fn fields(body: &[u8]) -> Vec<(&str, &str)> {
    std::str::from_utf8(body)
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .collect()
}

fn bad_form() -> PortalError {
    PortalError(ApiError::bad_request(
        "malformed_body",
        "the calendar form is incomplete",
    ))
}

pub async fn submit(
    State(state): State<Cantine>,
    caller: Caller,
    body: Bytes,
) -> PortalResult<Response> {
    let field = |name: &str| form_field(&body, name);
    let child_id: Uuid = field("enfant")
        .and_then(|v| v.parse().ok())
        .ok_or_else(bad_form)?;
    let period_id: Uuid = field("periode")
        .and_then(|v| v.parse().ok())
        .ok_or_else(bad_form)?;
    let month = field("mois");
    let choice = field("choix").unwrap_or_else(|| "jours".into());
    let (_, period) = find_period(&state, &caller, period_id).await?;
    let today = state.clock.paris_today();
    let ticked: Option<Vec<NaiveDate>> = fields(&body)
        .into_iter()
        .filter(|(k, _)| *k == "jour")
        .map(|(_, v)| v.parse().ok())
        .collect();
    let ticked = ticked.ok_or_else(bad_form)?;
    if let Some(to) = choice.strip_prefix("mois-") {
        // Another month: what is ticked goes along, nothing is requested yet.
        if month_bounds(to).is_none() {
            return Err(bad_form());
        }
        let carried = Carried::from_pairs(&fields(&body));
        return Ok(see_other(&format!(
            "/reservation/calendrier?enfant={child_id}&periode={period_id}&mois={to}{}",
            carried.query()
        )));
    }
    let (days, selection) = if choice == "jours" {
        (Some(ticked.clone()), None)
    } else if choice == "annee" {
        (None, Some(DaySelection::WholePeriod))
    } else if let Some(date) = choice.strip_prefix("semaine-") {
        let date = date.parse().map_err(|_| bad_form())?;
        (None, Some(DaySelection::Week { date }))
    } else if let Some(code) = choice.strip_prefix("tous-") {
        let weekday = WEEKDAYS
            .iter()
            .map(|(w, _)| *w)
            .find(|w| weekday_code(*w) == code)
            .ok_or_else(bad_form)?;
        let selection = DaySelection::Weekdays {
            weekdays: vec![weekday],
            from: today.clamp(period.from, period.to),
            to: period.to,
        };
        (None, Some(selection))
    } else {
        return Err(bad_form());
    };
    let cancel: Option<Vec<(Uuid, NaiveDate)>> = fields(&body)
        .into_iter()
        .filter(|(k, _)| *k == "annuler")
        .map(|(_, v)| parse_booked(v))
        .collect();
    let plan = |added: Option<Uuid>, cancel: Vec<(Uuid, NaiveDate)>| Plan {
        child: child_id,
        period: period_id,
        month: month.clone().filter(|m| month_bounds(m).is_some()),
        added,
        cancel,
    };
    let cancel = cancel.ok_or_else(bad_form)?;
    let adds_nothing = days.as_ref().is_some_and(Vec::is_empty);
    if adds_nothing && !cancel.is_empty() {
        // Only cancellations: the recap says what they will do, nothing is done yet.
        return Ok(see_other(&plan(None, cancel).recap_path()));
    }
    if adds_nothing {
        let again = Choice {
            enfant: child_id,
            periode: period_id,
            mois: month,
        };
        let message = "Cochez au moins un jour libre, ou un jour réservé à annuler, ou utilisez un choix groupé.".to_string();
        return show(
            &state,
            &caller,
            again,
            Carried::from_pairs(&fields(&body)),
            Some((StatusCode::UNPROCESSABLE_ENTITY, message)),
        )
        .await;
    }
    // A bulk choice with days ticked one by one: both (the bulk choice does not drop them).
    let (days, selection) = match (days, selection) {
        (None, Some(selection)) if !ticked.is_empty() => {
            let mut all: BTreeSet<NaiveDate> =
                reservations::selection_days(&state, &caller, period_id, &selection)
                    .await?
                    .into_iter()
                    .collect();
            all.extend(ticked.iter().copied());
            (Some(all.into_iter().collect()), None)
        }
        other => other,
    };
    // Free days can fill up between the page and the click: what remains is booked and the
    // recap says which were not.
    let requested = match (days, selection) {
        (Some(days), _) => RequestedDays::Explicit(days),
        (None, Some(selection)) => RequestedDays::Selection(selection),
        (None, None) => return Err(bad_form()),
    };
    // Billed later, the second guide's way: every change, a plain booking too, ends on the recap
    // of actions and its counts. Prepaid, the first guide's recap and its payment follow.
    let billed_later = matches!(period.payment, PaymentMode::Postpaid);
    match reservations::request(&state, &caller, child_id, period_id, requested, true).await {
        Ok(created) if cancel.is_empty() && !billed_later => {
            Ok(see_other(&format!("/reservations/{}", created.id)))
        }
        Ok(created) => Ok(see_other(&plan(Some(created.id), cancel).recap_path())),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND {
                let again = Choice {
                    enfant: child_id,
                    periode: period_id,
                    mois: month,
                };
                let message = french_message(&e);
                let carried = Carried::from_pairs(&fields(&body));
                show(&state, &caller, again, carried, Some((e.status, message))).await
            } else {
                Err(e.into())
            }
        }
    }
}
