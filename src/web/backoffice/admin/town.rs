//! `/gestion/commune`: what visitors read beside the login form (the town's name and address,
//! its logo, phone, contact e-mail and site), the contact details and the logo kept up to date by
//! the administrators (`app::town`).

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::form::{self, input, refused, Errors};
use crate::app::town::{self, Contact};
use crate::app::{AppError, Cantine};
use crate::web::backoffice::context::StaffContext;
use crate::web::backoffice::error::StaffResult;
use crate::web::backoffice::layout::page;
use crate::web::error::ApiError;
use crate::web::extract::{ApiForm, ApiQuery, Caller};
use crate::web::pages::layout::{csrf_field, render};

pub const PATH: &str = "/gestion/commune";
pub const LOGO_PATH: &str = "/gestion/commune/logo";
pub const LOGO_REMOVE_PATH: &str = "/gestion/commune/logo/retrait";

#[derive(Deserialize, Default, Clone)]
pub struct ContactForm {
    #[serde(default)]
    pub telephone: String,
    #[serde(default)]
    pub courriel: String,
    #[serde(default)]
    pub site: String,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    pub fait: Option<String>,
}

pub async fn show(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<DoneQuery>,
) -> StaffResult<Response> {
    let done = match query.fait.as_deref() {
        Some("modifie") => Some("Coordonnées enregistrées : la page de connexion les montre déjà."),
        Some("logo") => Some("Logo enregistré : la page de connexion le montre déjà."),
        Some("logo-retire") => Some("Logo retiré."),
        _ => None,
    };
    town_page(&state, &caller, None, None, done, StatusCode::OK).await
}

async fn town_page(
    state: &Cantine,
    caller: &Caller,
    refused_form: Option<(&ContactForm, &Errors)>,
    refused_logo: Option<&Errors>,
    done: Option<&str>,
    status: StatusCode,
) -> StaffResult<Response> {
    let context = StaffContext::load(state, caller, PATH).await?;
    let identity = town::identity(state).await?;
    let current = ContactForm {
        telephone: identity.phone.clone(),
        courriel: identity.contact_email.clone(),
        site: identity.website.clone(),
    };
    let none = Errors::default();
    let (values, errors) = refused_form.unwrap_or((&current, &none));
    let content = html! {
        @if let Some(done) = done {
            p class="info" role="status" { (done) }
        }
        p {
            "Ce que les visiteurs lisent à côté du formulaire de connexion, avec les documents "
            "publics (règlement, délibération tarifaire) publiés dans "
            a href="/gestion/documents" { "Documents" } "."
        }
        dl class="summary" {
            dt { "Nom" } dd { (identity.name) }
            dt { "Adresse" } dd { (identity.address) }
        }
        p class="note" {
            "Le nom et l'adresse figurent sur les factures : ils se changent avec l'éditeur du "
            "service, pas ici."
        }
        section aria-labelledby="logo" {
            h2 id="logo" { "Logo" }
            (refused(refused_logo.unwrap_or(&none), "Le logo n'a pas été modifié"))
            @if identity.has_logo {
                p { img class="town-logo" src=(crate::web::pages::login::LOGO) alt=(format!("Logo actuel de {}", identity.name)); }
            } @else {
                p class="note" { "Aucun logo : la page de connexion montre le nom de la commune seul." }
            }
            form method="post" action=(form::action(LOGO_PATH, "logo")) enctype="multipart/form-data" class="stack" {
                (csrf_field(&context.csrf))
                @let logo_error = refused_logo.and_then(|e| e.get("logo"));
                p class="field" {
                    label for="fichier-logo" { "Image (PNG ou JPEG, 200 Ko au plus)" }
                    input id="fichier-logo" name="logo" type="file" accept="image/png,image/jpeg" required
                        aria-invalid=[logo_error.map(|_| "true")]
                        aria-describedby=[logo_error.map(|_| "fichier-logo-erreur")];
                    @if let Some(message) = logo_error {
                        span id="fichier-logo-erreur" class="field-error" { (message) }
                    }
                }
                p { button type="submit" class="primary" { "Enregistrer le logo" } }
            }
            @if identity.has_logo {
                form method="post" action=(form::action(LOGO_REMOVE_PATH, "logo")) {
                    (csrf_field(&context.csrf))
                    p { button type="submit" { "Retirer le logo" } }
                }
            }
        }
        section aria-labelledby="coordonnees" {
            h2 id="coordonnees" { "Coordonnées" }
            (refused(errors, "Les coordonnées n'ont pas été modifiées"))
            form method="post" action=(form::action(PATH, "coordonnees")) {
                (csrf_field(&context.csrf))
                (input(("", "telephone"), "Téléphone", "tel", &values.telephone, errors, Some("Par exemple 04.66.71.71.55 ; vide : pas de téléphone affiché.")))
                (input(("", "courriel"), "Adresse e-mail de contact", "email", &values.courriel, errors, Some("Le lien « Contactez-nous » de la page de connexion.")))
                (input(("", "site"), "Site de la commune", "url", &values.site, errors, Some("Une adresse commençant par https://.")))
                p { button type="submit" class="primary" { "Enregistrer" } }
            }
        }
    };
    Ok(render(
        status,
        page("Commune", Some(&context.nav()), content),
    ))
}

/// A refusal put next to its field, in French.
fn contact_errors(e: &AppError) -> Option<Errors> {
    let (field, message) = match e.code() {
        "invalid_phone" => (
            "telephone",
            "Un numéro de téléphone : des chiffres, espaces, points, tirets, + ou parenthèses.",
        ),
        "invalid_email" => (
            "courriel",
            "Écrivez une adresse e-mail valide, sans espace (par exemple nom@exemple.fr).",
        ),
        "invalid_website" => (
            "site",
            "Une adresse de site commençant par https:// (ou http://), sans espace.",
        ),
        _ => return None,
    };
    Some(Errors::one(field, message))
}

pub async fn edit(
    State(state): State<Cantine>,
    caller: Caller,
    ApiForm(values): ApiForm<ContactForm>,
) -> StaffResult<Response> {
    let contact = Contact {
        phone: values.telephone.clone(),
        contact_email: values.courriel.clone(),
        website: values.site.clone(),
    };
    match town::update_contact(&state, &caller, contact).await {
        Ok(()) => Ok(form::done(&format!("{PATH}?fait=modifie"))),
        Err(e) => {
            let errors = contact_errors(&e).ok_or(e)?;
            town_page(
                &state,
                &caller,
                Some((&values, &errors)),
                None,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The logo's refusal, in French.
fn logo_errors(e: &AppError) -> Option<Errors> {
    let message = match e.code() {
        "logo_missing" => "Choisissez une image.",
        "logo_too_large" => "L'image dépasse 200 Ko : enregistrez-la plus petite.",
        "logo_not_an_image" => "Une image PNG ou JPEG (un logo .png ou .jpg).",
        _ => return None,
    };
    Some(Errors::one("logo", message))
}

pub async fn upload_logo(
    State(state): State<Cantine>,
    caller: Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> StaffResult<Response> {
    let unreadable = |_| ApiError::bad_request("malformed_body", "unreadable multipart form");
    let mut multipart =
        multipart.map_err(|_| ApiError::bad_request("malformed_body", "not a multipart form"))?;
    let mut bytes = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        if field.name() == Some("logo") {
            bytes = field.bytes().await.map_err(unreadable)?.to_vec();
        }
    }
    match town::set_logo(&state, &caller, &bytes).await {
        Ok(()) => Ok(form::done(&format!("{PATH}?fait=logo"))),
        Err(e) => {
            let errors = logo_errors(&e).ok_or(e)?;
            town_page(
                &state,
                &caller,
                None,
                Some(&errors),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn remove_logo(State(state): State<Cantine>, caller: Caller) -> StaffResult<Response> {
    town::remove_logo(&state, &caller).await?;
    Ok(form::done(&format!("{PATH}?fait=logo-retire")))
}
