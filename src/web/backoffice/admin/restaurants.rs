//! `/gestion/restaurants`: the restaurants with their capacity and periods, a new restaurant,
//! and a restaurant's page to rename it or change its capacity
//! (`app::administration::restaurants`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::form::{self, french, input, refused, Errors};
use super::periods;
use crate::app::administration::restaurants;
use crate::app::{AppError, Cantine};
use crate::web::backoffice::context::StaffContext;
use crate::web::backoffice::error::StaffResult;
use crate::web::backoffice::layout::page;
use crate::web::extract::{ApiForm, ApiPath, ApiQuery, Caller};
use crate::web::pages::layout::{csrf_field, render};

pub const PATH: &str = "/gestion/restaurants";

#[derive(Deserialize, Default, Clone)]
pub struct RestaurantForm {
    #[serde(default)]
    pub nom: String,
    #[serde(default)]
    pub capacite: String,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    pub fait: Option<String>,
}

const CAPACITY_HINT: &str = "Le nombre de places par jour que reprennent les nouvelles périodes ; \
     les périodes déjà créées gardent la leur.";

pub async fn list(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<DoneQuery>,
) -> StaffResult<Response> {
    let done = (query.fait.as_deref() == Some("cree")).then_some("Restaurant créé.");
    list_page(
        &state,
        &caller,
        &RestaurantForm::default(),
        &Errors::default(),
        done,
        StatusCode::OK,
    )
    .await
}

async fn list_page(
    state: &Cantine,
    caller: &Caller,
    values: &RestaurantForm,
    errors: &Errors,
    done: Option<&str>,
    status: StatusCode,
) -> StaffResult<Response> {
    let context = StaffContext::load(state, caller, PATH).await?;
    let restaurants = restaurants::list(state).await?;
    let content = html! {
        @if let Some(done) = done {
            p class="info" role="status" { (done) }
        }
        @if restaurants.is_empty() {
            p { "Aucun restaurant n'est encore enregistré." }
        } @else {
            div class="scroll admin" {
                table class="stack" {
                    caption { "Restaurants" }
                    thead {
                        tr {
                            th scope="col" { "Nom" }
                            th scope="col" class="number" { "Capacité (places par jour)" }
                            th scope="col" class="number" { "Périodes" }
                        }
                    }
                    tbody {
                        @for r in &restaurants {
                            tr {
                                th scope="row" data-label="Nom" { a href=(format!("{PATH}/{}", r.id)) { (r.name) } }
                                td class="number" data-label="Capacité" { (r.capacity) }
                                td class="number" data-label="Périodes" {
                                    a href=(format!("{}?restaurant={}", periods::PATH, r.id)) {
                                        (r.periods) span class="visually-hidden" { " période(s) de " (r.name) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="nouveau" {
            h2 id="nouveau" { "Créer un restaurant" }
            (refused(errors, "Le restaurant n'a pas été créé"))
            form method="post" action=(form::action(PATH, "nouveau")) {
                (csrf_field(&context.csrf))
                (input(("", "nom"), "Nom du restaurant", "text", &values.nom, errors, None))
                (input(("", "capacite"), "Capacité (places par jour)", "text", &values.capacite, errors, Some(CAPACITY_HINT)))
                p { button type="submit" class="primary" { "Créer le restaurant" } }
            }
        }
    };
    Ok(render(
        status,
        page("Restaurants", Some(&context.nav()), content),
    ))
}

/// The capacity field as a number, or the field's error.
fn capacity(text: &str, required: bool) -> Result<Option<i32>, Errors> {
    match form::whole_number(text) {
        Ok(None) if required => Err(Errors::one("capacite", "Ce champ est obligatoire.")),
        Ok(n) => n
            .map(|n| i32::try_from(n).map_err(|_| Errors::one("capacite", form::BAD_NUMBER)))
            .transpose(),
        Err(_) => Err(Errors::one("capacite", form::BAD_NUMBER)),
    }
}

fn restaurant_errors(e: &AppError) -> Option<Errors> {
    let field = match e.code() {
        "empty_field" => "nom",
        "invalid_capacity" => "capacite",
        _ => return None,
    };
    Some(Errors::one(field, french(e)))
}

pub async fn create(
    State(state): State<Cantine>,
    caller: Caller,
    ApiForm(values): ApiForm<RestaurantForm>,
) -> StaffResult<Response> {
    let outcome = match capacity(&values.capacite, true) {
        Err(errors) => Err(errors),
        Ok(capacity) => {
            let capacity = capacity.unwrap_or_default();
            match restaurants::create(&state, &caller, &values.nom, capacity).await {
                Ok(_) => Ok(()),
                Err(e) => Err(restaurant_errors(&e).ok_or(e)?),
            }
        }
    };
    match outcome {
        Ok(()) => Ok(form::done(&format!("{PATH}?fait=cree"))),
        Err(errors) => {
            list_page(
                &state,
                &caller,
                &values,
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn show(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<DoneQuery>,
) -> StaffResult<Response> {
    let done = (query.fait.as_deref() == Some("modifie")).then_some("Restaurant enregistré.");
    restaurant_page(&state, &caller, id, None, done, StatusCode::OK).await
}

async fn restaurant_page(
    state: &Cantine,
    caller: &Caller,
    id: Uuid,
    refused_form: Option<(&RestaurantForm, &Errors)>,
    done: Option<&str>,
    status: StatusCode,
) -> StaffResult<Response> {
    let context = StaffContext::load(state, caller, PATH).await?;
    let restaurant = restaurants::get(state, id).await?;
    let current = RestaurantForm {
        nom: restaurant.name.clone(),
        capacite: restaurant.capacity.to_string(),
    };
    let none = Errors::default();
    let (values, errors) = refused_form.unwrap_or((&current, &none));
    let content = html! {
        p { a href=(PATH) { "← Tous les restaurants" } }
        @if let Some(done) = done {
            p class="info" role="status" { (done) }
        }
        p {
            "Capacité : " (restaurant.capacity) " places par jour. "
            a href=(format!("{}?restaurant={}", periods::PATH, restaurant.id)) {
                "Voir ses " (restaurant.periods) " période(s)"
            }
        }
        section aria-labelledby="modifier" {
            h2 id="modifier" { "Modifier le restaurant" }
            (refused(errors, "Le restaurant n'a pas été modifié"))
            form method="post" action=(form::action(&format!("{PATH}/{id}"), "modifier")) {
                (csrf_field(&context.csrf))
                (input(("", "nom"), "Nom du restaurant", "text", &values.nom, errors, None))
                (input(("", "capacite"), "Capacité (places par jour)", "text", &values.capacite, errors, Some(CAPACITY_HINT)))
                p { button type="submit" class="primary" { "Enregistrer" } }
            }
        }
    };
    Ok(render(
        status,
        page(
            &format!("Restaurant {}", restaurant.name),
            Some(&context.nav()),
            content,
        ),
    ))
}

pub async fn edit(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiForm(values): ApiForm<RestaurantForm>,
) -> StaffResult<Response> {
    let outcome = match capacity(&values.capacite, true) {
        Err(errors) => Err(errors),
        Ok(capacity) => {
            match restaurants::edit(&state, &caller, id, Some(&values.nom), capacity, None).await {
                Ok(_) => Ok(()),
                Err(e) => Err(restaurant_errors(&e).ok_or(e)?),
            }
        }
    };
    match outcome {
        Ok(()) => Ok(form::done(&format!("{PATH}/{id}?fait=modifie"))),
        Err(errors) => {
            restaurant_page(
                &state,
                &caller,
                id,
                Some((&values, &errors)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
