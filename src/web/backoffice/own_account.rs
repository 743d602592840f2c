//! `/gestion/mon-compte`: a staff member changes their own password, with the current one (the
//! same use case as the families' "Mon compte", `app::accounts::own_account`). A colleague given
//! a new password by an administrator (`admin::staff`) replaces it here.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::context::StaffContext;
use super::error::StaffResult;
use super::layout::page;
use super::role_label;
use crate::app::accounts::own_account;
use crate::app::{AppError, Cantine};
use crate::web::error::ApiError;
use crate::web::extract::{ApiForm, ApiQuery, Caller, ClientAddr};
use crate::web::pages::error::french_message;
use crate::web::pages::layout::{csrf_field, render, see_other};
use crate::web::pages::session::session_cookie;

pub const PATH: &str = "/gestion/mon-compte";

#[derive(Deserialize)]
pub struct DoneQuery {
    pub fait: Option<String>,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    pub mot_de_passe_actuel: String,
    pub nouveau_mot_de_passe: String,
    pub confirmation: String,
}

pub async fn show(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<DoneQuery>,
) -> StaffResult<Response> {
    let done = (query.fait.as_deref() == Some("mot-de-passe"))
        .then_some("Votre mot de passe est modifié. Vos autres sessions sont fermées.");
    account_page(&state, &caller, done, None, StatusCode::OK).await
}

async fn account_page(
    state: &Cantine,
    caller: &Caller,
    done: Option<&str>,
    refused: Option<&str>,
    status: StatusCode,
) -> StaffResult<Response> {
    let context = StaffContext::load(state, caller, PATH).await?;
    let content = html! {
        @if let Some(done) = done {
            p class="info" role="status" { (done) }
        }
        dl class="summary" {
            dt { "Identifiant" } dd { (context.login) }
            dt { "Rôle" } dd { (role_label(context.role)) }
        }
        section aria-labelledby="changer-mot-de-passe" {
            h2 id="changer-mot-de-passe" { "Changer mon mot de passe" }
            @if let Some(refused) = refused {
                p class="alert" role="alert" { (refused) }
            }
            form method="post" action=(PATH) class="stack" {
                (csrf_field(&context.csrf))
                input type="hidden" name="identifiant" value=(context.login) autocomplete="username";
                p {
                    label for="mdp-actuel" { "Mot de passe actuel" }
                    input id="mdp-actuel" name="mot_de_passe_actuel" type="password"
                        autocomplete="current-password" required maxlength="256";
                }
                p {
                    label for="mdp-nouveau" { "Nouveau mot de passe (8 caractères au moins)" }
                    input id="mdp-nouveau" name="nouveau_mot_de_passe" type="password"
                        autocomplete="new-password" required minlength="8" maxlength="256";
                }
                p {
                    label for="mdp-confirmation" { "Nouveau mot de passe, une seconde fois" }
                    input id="mdp-confirmation" name="confirmation" type="password"
                        autocomplete="new-password" required minlength="8" maxlength="256";
                }
                p { button type="submit" class="primary" { "Changer mon mot de passe" } }
            }
        }
    };
    Ok(render(
        status,
        page("Mon compte", Some(&context.nav()), content),
    ))
}

pub async fn change_password(
    State(state): State<Cantine>,
    ClientAddr(client): ClientAddr,
    caller: Caller,
    ApiForm(form): ApiForm<PasswordForm>,
) -> StaffResult<Response> {
    if form.nouveau_mot_de_passe != form.confirmation {
        let message =
            "Les deux nouveaux mots de passe ne sont pas identiques : rien n'a été modifié.";
        return account_page(
            &state,
            &caller,
            None,
            Some(message),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match own_account::change_password(
        &state,
        &caller,
        &client,
        &form.mot_de_passe_actuel,
        &form.nouveau_mot_de_passe,
    )
    .await
    {
        Ok(session) => {
            // Every session of the account has ended, this one too: the browser carries on
            // with the new one.
            let mut response = see_other(&format!("{PATH}?fait=mot-de-passe"));
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie(&state, &session.token));
            Ok(response)
        }
        Err(e) => {
            let (status, message) = shown(e)?;
            account_page(&state, &caller, None, Some(&message), status).await
        }
    }
}

/// A refusal the staff member can act on is shown on the page; a failure of the service is not.
fn shown(error: AppError) -> StaffResult<(StatusCode, String)> {
    let error = ApiError::from(error);
    if error.status.is_server_error() {
        return Err(error.into());
    }
    let message = match error.code {
        "wrong_password" => "Le mot de passe actuel est incorrect : rien n'a été modifié.".into(),
        "weak_password" => "Le nouveau mot de passe doit compter de 8 à 256 caractères.".into(),
        _ => french_message(&error),
    };
    Ok((error.status, message))
}
