//! `/gestion/commune`: what visitors read beside the login form (the town's name and address,
//! its phone, contact e-mail and site), the contact details kept up to date by the
//! administrators (`app::town`).

use axum::extract::State;
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
use crate::web::extract::{ApiForm, ApiQuery, Caller};
use crate::web::pages::layout::{csrf_field, render};

pub const PATH: &str = "/gestion/commune";

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
    let done = (query.fait.as_deref() == Some("modifie"))
        .then_some("Coordonnées enregistrées : la page de connexion les montre déjà.");
    town_page(&state, &caller, None, done, StatusCode::OK).await
}

async fn town_page(
    state: &Cantine,
    caller: &Caller,
    refused_form: Option<(&ContactForm, &Errors)>,
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
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
