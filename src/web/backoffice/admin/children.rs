//! A family's children on its page: the list, a form to correct each one (names, meal option)
//! and one to add a child, through `app::administration::children`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::families::family_path;
use super::family::{family_page, Forms};
use super::form::{self, french, input, names_field, refused, select, Errors};
use crate::app::administration::children::{self, Child, ChildChange, NewChild};
use crate::app::{AppError, AppResult, Cantine};
use crate::domain::meal_option::MealOption;
use crate::web::backoffice::error::StaffResult;
use crate::web::extract::{ApiForm, ApiPath, Caller};
use crate::web::pages::layout::csrf_field;

#[derive(Deserialize, Default, Clone)]
pub struct ChildForm {
    #[serde(default)]
    pub prenom: String,
    #[serde(default)]
    pub nom: String,
    #[serde(default)]
    pub menu: String,
}

fn meal_options() -> Vec<(&'static str, &'static str)> {
    MealOption::ALL
        .iter()
        .map(|o| (o.as_str(), o.french()))
        .collect()
}

fn fields(prefix: &str, values: &ChildForm, errors: &Errors) -> Markup {
    html! {
        (input((prefix, "prenom"), "Prénom", "text", &values.prenom, errors, None))
        (input((prefix, "nom"), "Nom", "text", &values.nom, errors, None))
        (select((prefix, "menu"), "Menu", &meal_options(), &values.menu, errors))
    }
}

/// The children's part of the family page.
pub fn section(path: &str, kids: &[Child], forms: &Forms, csrf: &str) -> Markup {
    let blank = (
        ChildForm {
            menu: MealOption::Standard.as_str().into(),
            ..ChildForm::default()
        },
        Errors::default(),
    );
    let (new_values, new_errors) = forms
        .new_child
        .as_ref()
        .map(|(v, e)| (v, e))
        .unwrap_or((&blank.0, &blank.1));
    html! {
        section aria-labelledby="enfants" {
            h2 id="enfants" { "Enfants" }
            @if kids.is_empty() {
                p { "Aucun enfant n'est encore inscrit." }
            } @else {
                ul class="plain" {
                    @for kid in kids {
                        @let refused_here = forms.child.as_ref().filter(|(id, _, _)| *id == kid.id);
                        @let current = ChildForm {
                            prenom: kid.first_name.clone(),
                            nom: kid.last_name.clone(),
                            menu: kid.meal_option.as_str().to_string(),
                        };
                        @let none = Errors::default();
                        @let (values, errors) = refused_here
                            .map(|(_, v, e)| (v, e))
                            .unwrap_or((&current, &none));
                        li class="card" id=(format!("enfant-{}", kid.id)) {
                            h3 { (kid.first_name) " " (kid.last_name) }
                            p { "Menu : " (kid.meal_option.french()) }
                            details open[refused_here.is_some()] {
                                summary { "Modifier " span class="visually-hidden" { (kid.first_name) " " (kid.last_name) } }
                                (refused(errors, "L'enfant n'a pas été modifié"))
                                form method="post" action=(form::action(&format!("{path}/enfants/{}", kid.id), &format!("enfant-{}", kid.id))) {
                                    (csrf_field(csrf))
                                    (fields(&format!("enfant-{}", kid.id), values, errors))
                                    p { button type="submit" class="primary" { "Enregistrer l'enfant" } }
                                }
                            }
                        }
                    }
                }
            }
            h3 id="ajouter-enfant" { "Ajouter un enfant" }
            (refused(new_errors, "L'enfant n'a pas été ajouté"))
            form method="post" action=(form::action(&format!("{path}/enfants"), "ajouter-enfant")) aria-labelledby="ajouter-enfant" {
                (csrf_field(csrf))
                (fields("nouvel-enfant", new_values, new_errors))
                p { button type="submit" class="primary" { "Ajouter l'enfant" } }
            }
        }
    }
}

/// Where a refusal of the child use cases belongs on the form.
fn child_errors(e: &AppError) -> Option<Errors> {
    let field = match e.code() {
        "empty_field" if names_field(e, "first_name") => "prenom",
        "empty_field" if names_field(e, "last_name") => "nom",
        "invalid_meal_option" => "menu",
        _ => return None,
    };
    Some(Errors::one(field, french(e)))
}

pub async fn create(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(family_id): ApiPath<Uuid>,
    ApiForm(values): ApiForm<ChildForm>,
) -> StaffResult<Response> {
    let created: AppResult<_> = async {
        let child = NewChild::parse(&values.prenom, &values.nom, Some(&values.menu))?;
        children::create(&state, &caller, family_id, child).await
    }
    .await;
    match created {
        Ok(_) => Ok(form::done(&format!(
            "{}?fait=enfant-ajoute",
            family_path(family_id)
        ))),
        Err(e) => {
            let errors = child_errors(&e).ok_or(e)?;
            let forms = Forms {
                new_child: Some((values, errors)),
                ..Forms::default()
            };
            family_page(
                &state,
                &caller,
                family_id,
                forms,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn edit(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath((family_id, child_id)): ApiPath<(Uuid, Uuid)>,
    ApiForm(values): ApiForm<ChildForm>,
) -> StaffResult<Response> {
    let edited: AppResult<_> = async {
        let change =
            ChildChange::parse(Some(&values.prenom), Some(&values.nom), Some(&values.menu))?;
        children::edit(&state, &caller, (family_id, child_id), change).await
    }
    .await;
    match edited {
        Ok(_) => Ok(form::done(&format!(
            "{}?fait=enfant-modifie",
            family_path(family_id)
        ))),
        Err(e) => {
            let errors = child_errors(&e).ok_or(e)?;
            let forms = Forms {
                child: Some((child_id, values, errors)),
                ..Forms::default()
            };
            family_page(
                &state,
                &caller,
                family_id,
                forms,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
