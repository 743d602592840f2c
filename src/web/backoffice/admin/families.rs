//! `/gestion/familles`: the families, found by name or e-mail a page at a time, and a new family
//! (its account, its quotient familial, the "Générer votre mot de passe" e-mail); a family's own
//! page is `family.rs`. Each change is a use case of `app::administration` (`families`,
//! `tariffs`, `family_accounts`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::account::Role;

use super::form::{self, french, input, names_field, refused, Errors};
use crate::app::administration::family_accounts::{self, FamilyAccount};
use crate::app::administration::{families, tariffs};
use crate::app::{AppError, Cantine};
use crate::web::backoffice::context::StaffContext;
use crate::web::backoffice::error::StaffResult;
use crate::web::backoffice::layout::page;
use crate::web::extract::{ApiForm, ApiQuery, Caller};
use crate::web::pages::format::date_time;
use crate::web::pages::layout::{csrf_field, render};

pub const PATH: &str = "/gestion/familles";
pub const PER_PAGE: i64 = 20;

pub fn family_path(id: Uuid) -> String {
    format!("{PATH}/{id}")
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub q: Option<String>,
    pub page: Option<i64>,
}

/// The family form's fields, as typed: shown again as they were when refused.
#[derive(Deserialize, Default, Clone)]
pub struct FamilyForm {
    #[serde(default)]
    pub nom: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub quotient: String,
    /// The new-family form's box "send the password e-mail now".
    pub envoyer_mail: Option<String>,
}

/// Far past any town's families, and far from an offset that overflows.
const MAX_PAGE: i64 = 100_000;

pub async fn list(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> StaffResult<Response> {
    let blank = FamilyForm {
        envoyer_mail: Some("oui".into()),
        ..FamilyForm::default()
    };
    list_page(
        &state,
        &caller,
        &query,
        &blank,
        &Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// The account's state in words and a sign, never by colour alone.
pub(super) fn account_state(row: &FamilyAccount) -> String {
    if let Some(at) = row.disabled_at {
        format!("✗ Désactivé depuis le {}", date_time(at))
    } else if let Some(at) = row.locked_at {
        format!("🔒 Verrouillé depuis le {}", date_time(at))
    } else if !row.has_password {
        "… Mot de passe pas encore choisi".to_string()
    } else {
        "✓ Actif".to_string()
    }
}

pub(super) fn quotient_text(quotient: Option<i32>) -> String {
    match quotient {
        Some(q) => format!("{q} €"),
        None => "Inconnu (tarif le plus haut)".to_string(),
    }
}

fn list_link(search: &str, page: i64) -> String {
    format!("{PATH}?q={}&page={page}", form::query_value(search))
}

async fn list_page(
    state: &Cantine,
    caller: &Caller,
    query: &ListQuery,
    values: &FamilyForm,
    errors: &Errors,
    status: StatusCode,
) -> StaffResult<Response> {
    let context = StaffContext::load(state, caller, PATH).await?;
    // The front desk opens a family's file; its account and the new families are the admins'.
    let admin = caller.role == Role::Admin;
    let search = query.q.as_deref().unwrap_or("").trim().to_string();
    // Any page past the last is empty; bounded so that its offset cannot overflow.
    let page_number = query.page.unwrap_or(1).clamp(1, MAX_PAGE);
    let families::FamiliesPage {
        families: rows,
        total,
    } = families::search(state, &search, page_number, PER_PAGE).await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let content = html! {
        section aria-labelledby="recherche" {
            h2 id="recherche" { "Rechercher une famille" }
            form class="search" method="get" action=(PATH) role="search" {
                label for="q" { "Nom ou adresse e-mail" }
                input id="q" name="q" type="search" value=(search);
                button type="submit" class="primary" { "Rechercher" }
            }
            p role="status" {
                @if search.is_empty() {
                    (total) " famille" @if total > 1 { "s" } " en tout."
                } @else {
                    (total) " famille" @if total > 1 { "s" } " pour « " (search) " »."
                    " " a href=(PATH) { "Voir toutes les familles" }
                }
            }
            @if !rows.is_empty() {
                div class="scroll admin" {
                    table class="stack" {
                        caption { "Familles, par nom – page " (page_number) " sur " (pages) }
                        thead {
                            tr {
                                th scope="col" { "Nom" }
                                th scope="col" { "Adresse e-mail (identifiant)" }
                                th scope="col" { "Compte" }
                                th scope="col" { "Quotient familial" }
                                th scope="col" { "Dernière connexion" }
                                th scope="col" { "Dossier" }
                            }
                        }
                        tbody {
                            @for row in &rows {
                                tr {
                                    th scope="row" data-label="Nom" {
                                        a href=(if admin { family_path(row.id) } else { super::family_file::file_path(row.id) }) { (row.name) }
                                    }
                                    td data-label="Adresse e-mail" { (row.login) }
                                    td data-label="Compte" { (account_state(row)) }
                                    td data-label="Quotient familial" { (quotient_text(row.quotient_familial)) }
                                    td data-label="Dernière connexion" {
                                        @match row.last_login_at {
                                            Some(at) => (date_time(at)),
                                            None => "Jamais",
                                        }
                                    }
                                    td data-label="Dossier" {
                                        a href=(super::family_file::file_path(row.id)) {
                                            "Dossier" span class="visually-hidden" { " de la famille " (row.name) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav class="pages" aria-label="Pages de la liste des familles" {
                    @if page_number > 1 {
                        a href=(list_link(&search, page_number - 1)) { "← Page précédente" }
                    }
                    span { "Page " (page_number) " sur " (pages) }
                    @if page_number < pages {
                        a href=(list_link(&search, page_number + 1)) { "Page suivante →" }
                    }
                }
            }
        }
        @if admin {
        section aria-labelledby="nouvelle" {
            h2 id="nouvelle" { "Créer une famille" }
            (refused(errors, "La famille n'a pas été créée"))
            form method="post" action=(form::action(PATH, "nouvelle")) class="stack" {
                (csrf_field(&context.csrf))
                (input(("", "nom"), "Nom de la famille", "text", &values.nom, errors, None))
                (input(("", "email"), "Adresse e-mail (l'identifiant de la famille)", "email", &values.email, errors, None))
                (input(("", "quotient"), "Quotient familial (en euros, facultatif)", "text", &values.quotient, errors,
                    Some("Laissez vide s'il n'est pas connu : la famille paie alors le tarif le plus haut.")))
                p class="field checkbox" {
                    input id="envoyer_mail" name="envoyer_mail" type="checkbox" value="oui"
                        checked[values.envoyer_mail.is_some()];
                    " "
                    label for="envoyer_mail" class="inline" {
                        "Envoyer aussitôt le mail « Générer votre mot de passe » à cette adresse"
                    }
                }
                p { button type="submit" class="primary" { "Créer la famille" } }
            }
        }
        }
    };
    Ok(render(
        status,
        page("Familles", Some(&context.nav()), content),
    ))
}

/// The quotient field: empty is unknown; refused as the application refuses it, before anything
/// changes.
pub(super) fn quotient_field(text: &str, errors: &mut Errors) -> Option<Option<i32>> {
    let parsed = match form::whole_number(text) {
        Ok(parsed) => parsed,
        Err(_) => {
            errors.add("quotient", form::BAD_NUMBER);
            return None;
        }
    };
    match tariffs::quotient_value(parsed) {
        Ok(q) => Some(q),
        Err(e) => {
            errors.add("quotient", french(&e));
            None
        }
    }
}

/// Where a refusal of the family use cases belongs on the form.
pub(super) fn family_errors(e: &AppError) -> Option<Errors> {
    let field = match e.code() {
        "empty_field" if names_field(e, "name") => "nom",
        "empty_field" if names_field(e, "login") => "email",
        "empty_field" => "nom",
        "invalid_login" | "login_taken" => "email",
        _ => return None,
    };
    Some(Errors::one(field, french(e)))
}

pub async fn create(
    State(state): State<Cantine>,
    caller: Caller,
    ApiForm(values): ApiForm<FamilyForm>,
) -> StaffResult<Response> {
    let mut errors = Errors::default();
    let created = match quotient_field(&values.quotient, &mut errors) {
        None => Err(errors),
        Some(quotient) => {
            let new = families::NewFamily {
                name: &values.nom,
                login: &values.email,
                password: None,
            };
            match families::create(&state, &caller, new).await {
                Ok(id) => Ok((id, quotient)),
                Err(e) => Err(family_errors(&e).ok_or(e)?),
            }
        }
    };
    let (id, quotient) = match created {
        Ok(created) => created,
        Err(errors) => {
            return list_page(
                &state,
                &caller,
                &ListQuery::default(),
                &values,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    if quotient.is_some() {
        tariffs::set_quotient(&state, &caller, id, quotient).await?;
    }
    let done = if values.envoyer_mail.is_some() {
        family_accounts::send_password_email(&state, &caller, id).await?;
        "creee-mail"
    } else {
        "creee"
    };
    Ok(form::done(&format!("{}?fait={done}", family_path(id))))
}
