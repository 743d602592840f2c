//! `/gestion/periodes`: the booking periods with their rules in the words families read
//! (`portal::booking::rules`), and a period's page to edit its closures
//! (`api::closures::replace`), set a day's capacity (`api::admin::set_capacity`) and add a price
//! list by quotient familial (`prices.rs`).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::form::{self, field, french, input, refused, Errors};
use super::new_period::{self, PeriodForm};
use super::prices::{tariff_section, TariffForm};
use crate::app::queries::family::Period;
use crate::app::Cantine;
use crate::db;
use crate::domain::period::Closure;
use crate::web::api::admin::{self, validate_closures, CapacityOverride};
use crate::web::api::closures::{self, NewClosures};
use crate::web::api::family::PeriodView;
use crate::web::api::tariffs;
use crate::web::backoffice::context::StaffContext;
use crate::web::backoffice::error::StaffResult;
use crate::web::backoffice::layout::page;
use crate::web::error::ApiError;
use crate::web::extract::{ApiForm, ApiJson, ApiPath, ApiQuery, Caller};
use crate::web::pages::format::day;
use crate::web::pages::layout::{csrf_field, render};
use crate::web::portal::booking::rules;

pub const PATH: &str = "/gestion/periodes";
/// Empty closure rows offered after the period's own, to add closures without JavaScript.
const NEW_CLOSURE_ROWS: usize = 3;

#[derive(Deserialize)]
pub struct ListQuery {
    pub restaurant: Option<Uuid>,
}

pub async fn list(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> StaffResult<Response> {
    list_page(
        &state,
        &caller,
        query.restaurant,
        (&PeriodForm::blank(), &Errors::default()),
        StatusCode::OK,
    )
    .await
}

/// The periods (of one restaurant, or all), then the form of a new period.
pub async fn list_page(
    state: &Cantine,
    caller: &Caller,
    restaurant: Option<Uuid>,
    (values, errors): (&PeriodForm, &Errors),
    status: StatusCode,
) -> StaffResult<Response> {
    let context = StaffContext::load(state, caller, PATH).await?;
    let periods: Vec<_> = db::reference::periods(&state.pool, state.organisation.id)
        .await?
        .into_iter()
        .filter(|p| restaurant.is_none_or(|r| r == p.restaurant_id))
        .collect();
    let restaurants = db::reference::restaurants(&state.pool, state.organisation.id).await?;
    let content = html! {
        @if restaurant.is_some() {
            p { a href=(PATH) { "← Les périodes de tous les restaurants" } }
        }
        @if periods.is_empty() {
            p { "Aucune période n'est encore enregistrée." }
        }
        @for period in &periods {
            @let heading = format!("periode-{}", period.id);
            section class="card" aria-labelledby=(heading) {
                h2 id=(heading) { (period.restaurant_name) " – " (period.label) }
                (rules(&period.restaurant_name, &Period::from(period.clone())))
                p {
                    a class="button" href=(format!("{PATH}/{}", period.id)) {
                        "Fermetures, capacités et prix"
                        span class="visually-hidden" { " de " (period.label) }
                    }
                }
            }
        }
        (new_period::section(&restaurants, values, errors, &context.csrf))
    };
    Ok(render(
        status,
        page("Périodes de réservation", Some(&context.nav()), content),
    ))
}

/// One row of the closures form, as typed.
#[derive(Default, Clone)]
pub struct ClosureRow {
    pub label: String,
    pub from: String,
    pub to: String,
}

#[derive(Default, Clone)]
pub struct CapacityForm {
    pub date: String,
    pub capacity: String,
}

/// What the period's page shows besides the period: a refused form, or what was done.
#[derive(Default)]
pub struct Forms {
    pub closures: Option<(Vec<ClosureRow>, bool, Errors)>,
    pub capacity: Option<(CapacityForm, Errors)>,
    pub tariff: Option<(TariffForm, Errors)>,
    pub done: Option<String>,
    pub closures_done: Option<String>,
    /// Days the closures just closed on which meals are held or paid (the API lists them).
    pub booked_now_closed: Vec<NaiveDate>,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    pub fait: Option<String>,
}

pub async fn show(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<DoneQuery>,
) -> StaffResult<Response> {
    let done = match query.fait.as_deref() {
        Some("creee") => Some(
            "Période créée. Ajoutez-y si besoin ses fermetures, des capacités particulières et \
             ses prix selon le quotient familial."
                .to_string(),
        ),
        Some("capacite") => Some("Capacité du jour enregistrée.".to_string()),
        Some("tarifs") => Some("Grille de prix ajoutée.".to_string()),
        _ => None,
    };
    let forms = Forms {
        done,
        ..Forms::default()
    };
    period_page(&state, &caller, id, forms, StatusCode::OK).await
}

pub(super) async fn period_page(
    state: &Cantine,
    caller: &Caller,
    id: Uuid,
    forms: Forms,
    status: StatusCode,
) -> StaffResult<Response> {
    let context = StaffContext::load(state, caller, PATH).await?;
    let period = db::reference::period(&state.pool, state.organisation.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("period"))?;
    let overrides = db::reference::capacity_overrides(&state.pool, id).await?;
    let lists = tariffs::list(State(state.clone()), ApiPath(id)).await?.0;
    let today = state.clock.paris_today();
    let path = format!("{PATH}/{id}");
    let closures_rows: Vec<ClosureRow> = period
        .rules
        .0
        .closures
        .iter()
        .map(|c| ClosureRow {
            label: c.label.clone(),
            from: c.from.to_string(),
            to: c.to.to_string(),
        })
        .chain(std::iter::repeat_n(ClosureRow::default(), NEW_CLOSURE_ROWS))
        .collect();
    let no_errors = Errors::default();
    let (closure_values, holidays, closure_errors) = match &forms.closures {
        Some((rows, holidays, errors)) => (rows.as_slice(), *holidays, errors),
        None => (closures_rows.as_slice(), false, &no_errors),
    };
    let view = PeriodView::from(period.clone());
    let content = html! {
        p { a href=(format!("{PATH}?restaurant={}", period.restaurant_id)) { "← Les périodes de " (period.restaurant_name) } }
        @if let Some(done) = &forms.done {
            p class="info" role="status" { (done) }
        }
        section aria-labelledby="regles" {
            h2 id="regles" { "Règles de la période" }
            (rules(&period.restaurant_name, &Period::from(period.clone())))
        }
        (closures_form(&path, (closure_values, holidays, closure_errors), &forms, &context.csrf))
        (capacity_section(&path, &period, &overrides, forms.capacity.as_ref(), &context.csrf))
        (tariff_section(&path, &view, &lists, today, forms.tariff.as_ref(), &context.csrf))
    };
    Ok(render(
        status,
        page(
            &format!("{} – {}", period.restaurant_name, period.label),
            Some(&context.nav()),
            content,
        ),
    ))
}

fn closures_form(
    path: &str,
    (rows, holidays, errors): (&[ClosureRow], bool, &Errors),
    forms: &Forms,
    csrf: &str,
) -> Markup {
    html! {
        section aria-labelledby="fermetures" {
            h2 id="fermetures" { "Fermetures" }
            // The answer to this form shows here: the page comes back scrolled to it.
            @if let Some(done) = &forms.closures_done {
                p class="info" role="status" { (done) }
            }
            @if !forms.booked_now_closed.is_empty() {
                div class="alert" role="alert" {
                    p {
                        "Des repas sont déjà réservés ces jours désormais fermés. Ils restent réservés : "
                        "à vous de décider de les rembourser ou de les reporter."
                    }
                    ul { @for d in &forms.booked_now_closed { li { (day(*d)) } } }
                }
            }
            p {
                "Les jours fermés ne peuvent plus être réservés. Pour retirer une fermeture, videz ses "
                "trois champs ; pour en ajouter une, remplissez une ligne vide. Une fermeture d'un "
                "seul jour a la même date de début et de fin."
            }
            (refused(errors, "Les fermetures n'ont pas été enregistrées"))
            form method="post" action=(form::action(&format!("{path}/fermetures"), "fermetures")) {
                (csrf_field(csrf))
                @for (i, row) in rows.iter().enumerate() {
                    fieldset class="row" {
                        legend {
                            @if row.label.is_empty() && row.from.is_empty() { "Nouvelle fermeture" }
                            @else { "Fermeture " (i + 1) }
                        }
                        (input(("", &format!("libelle-{i}")), "Motif", "text", &row.label, errors, None))
                        (input(("", &format!("du-{i}")), "Du", "date", &row.from, errors, None))
                        (input(("", &format!("au-{i}")), "Au (inclus)", "date", &row.to, errors, None))
                    }
                }
                input type="hidden" name="lignes" value=(rows.len());
                p class="field checkbox" {
                    input id="feries" name="feries" type="checkbox" value="oui" checked[holidays];
                    " "
                    label for="feries" class="inline" { "Ajouter aussi les jours fériés de la période (s’ils n’y sont pas déjà)" }
                }
                p { button type="submit" class="primary" { "Enregistrer les fermetures" } }
            }
        }
    }
}

fn capacity_section(
    path: &str,
    period: &db::reference::PeriodRow,
    overrides: &[db::reference::CapacityOverrideRow],
    refused_form: Option<&(CapacityForm, Errors)>,
    csrf: &str,
) -> Markup {
    let blank = (CapacityForm::default(), Errors::default());
    let (values, errors) = refused_form.unwrap_or(&blank);
    html! {
        section aria-labelledby="capacites" {
            h2 id="capacites" { "Capacités" }
            p { "Capacité habituelle : " strong { (period.capacity) " places" } " par jour de service." }
            @if overrides.is_empty() {
                p { "Aucun jour n'a de capacité particulière." }
            } @else {
                div class="scroll admin" {
                    table class="stack" {
                        caption { "Jours à capacité particulière" }
                        thead { tr {
                            th scope="col" { "Jour" }
                            th scope="col" class="number" { "Capacité" }
                            th scope="col" class="number" { "Places prises" }
                        } }
                        tbody {
                            @for o in overrides {
                                tr {
                                    th scope="row" data-label="Jour" { (day(o.date)) }
                                    td class="number" data-label="Capacité" { (o.capacity) }
                                    td class="number" data-label="Places prises" { (o.taken) }
                                }
                            }
                        }
                    }
                }
            }
            h3 id="capacite-jour" { "Changer la capacité d'un jour" }
            p class="note" { "Une sortie, un manque de personnel : la capacité ne descend pas sous les places déjà prises." }
            (refused(errors, "La capacité n'a pas été changée"))
            form method="post" action=(form::action(&format!("{path}/capacite"), "capacite-jour")) aria-labelledby="capacite-jour" {
                (csrf_field(csrf))
                (input(("", "date"), "Jour", "date", &values.date, errors, None))
                (input(("", "capacite"), "Capacité ce jour-là (places)", "text", &values.capacity, errors, None))
                p { button type="submit" class="primary" { "Enregistrer la capacité" } }
            }
        }
    }
}

pub async fn set_closures(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiForm(fields): ApiForm<HashMap<String, String>>,
) -> StaffResult<Response> {
    let count: usize = field(&fields, "lignes").parse().unwrap_or(0).min(200);
    let rows: Vec<ClosureRow> = (0..count)
        .map(|i| ClosureRow {
            label: field(&fields, &format!("libelle-{i}")).to_string(),
            from: field(&fields, &format!("du-{i}")).to_string(),
            to: field(&fields, &format!("au-{i}")).to_string(),
        })
        .collect();
    let holidays = !field(&fields, "feries").is_empty();
    let mut errors = Errors::default();
    let mut closures = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if row.label.is_empty() && row.from.is_empty() && row.to.is_empty() {
            continue;
        }
        if row.label.is_empty() {
            errors.add(format!("libelle-{i}"), "Donnez le motif de la fermeture.");
        }
        let from = form::date(&row.from);
        // A single day may leave "Au" empty.
        let to = if row.to.is_empty() {
            from
        } else {
            form::date(&row.to)
        };
        if from.is_err() {
            errors.add(format!("du-{i}"), form::BAD_DATE);
        }
        if to.is_err() && !row.to.is_empty() {
            errors.add(format!("au-{i}"), form::BAD_DATE);
        }
        if let (Ok(from), Ok(to)) = (from, to) {
            let closure = Closure {
                from,
                to,
                label: row.label.clone(),
            };
            // The API's rule, row by row, so that its refusal shows on the row it concerns.
            if let Err(e) = validate_closures(std::slice::from_ref(&closure)) {
                errors.add(format!("au-{i}"), french(&e));
            }
            closures.push(closure);
        }
    }
    if !errors.any() {
        let body = NewClosures {
            closures,
            public_holidays: holidays,
        };
        match closures::replace(State(state.clone()), ApiPath(id), ApiJson(body)).await {
            Ok(set) => {
                let forms = Forms {
                    closures_done: Some(format!(
                        "Fermetures enregistrées : {} en tout.",
                        set.0.closures.len()
                    )),
                    booked_now_closed: set.0.booked_days_now_closed,
                    ..Forms::default()
                };
                return period_page(&state, &caller, id, forms, StatusCode::OK).await;
            }
            Err(e) if e.code == "invalid_period" => errors.add("du-0", french(&e)),
            Err(e) => return Err(e.into()),
        }
    }
    let forms = Forms {
        closures: Some((rows, holidays, errors)),
        ..Forms::default()
    };
    period_page(&state, &caller, id, forms, StatusCode::UNPROCESSABLE_ENTITY).await
}

#[derive(Deserialize)]
pub struct CapacityFields {
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub capacite: String,
}

pub async fn set_capacity(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiForm(fields): ApiForm<CapacityFields>,
) -> StaffResult<Response> {
    let values = CapacityForm {
        date: fields.date.trim().to_string(),
        capacity: fields.capacite.trim().to_string(),
    };
    let mut errors = Errors::default();
    let on = form::date(&values.date)
        .map_err(|_| errors.add("date", form::BAD_DATE))
        .ok();
    let capacity = match form::whole_number(&values.capacity) {
        Ok(Some(n)) => i32::try_from(n).ok(),
        _ => None,
    };
    if capacity.is_none() {
        errors.add("capacite", form::BAD_NUMBER);
    }
    if let (Some(on), Some(capacity)) = (on, capacity) {
        let body = CapacityOverride { date: on, capacity };
        match admin::set_capacity(State(state.clone()), ApiPath(id), ApiJson(body)).await {
            Ok(_) => return Ok(form::done(&format!("{PATH}/{id}?fait=capacite"))),
            Err(e) => match e.code {
                "closed_day" => errors.add("date", french(&e)),
                "invalid_capacity" | "capacity_below_taken" => errors.add("capacite", french(&e)),
                _ => return Err(e.into()),
            },
        }
    }
    let forms = Forms {
        capacity: Some((values, errors)),
        ..Forms::default()
    };
    period_page(&state, &caller, id, forms, StatusCode::UNPROCESSABLE_ENTITY).await
}
