//! `/compte`: the family's account details and its two forms, the password and the login
//! e-mail. Both go through the same use cases as the API (`app::accounts::own_account`), so the
//! portal proves the current password, counts wrong ones towards the lock and ends the other
//! sessions exactly as the API does.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::context::Context;
use crate::app::accounts::own_account;
use crate::app::accounts::sessions::own_login;
use crate::app::{AppError, Cantine};
use crate::web::error::ApiError;
use crate::web::extract::ClientAddr;
use crate::web::extract::{ApiForm, ApiQuery, Caller};
use crate::web::pages::error::{french_message, PortalError, PortalResult};
use crate::web::pages::layout::{csrf_field, page, render, see_other};
use crate::web::pages::session::session_cookie;

const PATH: &str = "/compte";

#[derive(Deserialize)]
pub struct AccountQuery {
    pub fait: Option<String>,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    pub mot_de_passe_actuel: String,
    pub nouveau_mot_de_passe: String,
    pub confirmation: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub mot_de_passe_actuel: String,
    pub identifiant: String,
}

/// Which form a refusal belongs to, so that its message shows next to it.
enum Refusal<'a> {
    Password(&'a str),
    Login(&'a str),
}

fn refusal_message(error: &ApiError) -> String {
    match error.code {
        "wrong_password" => "Le mot de passe actuel est incorrect : rien n'a été modifié.".into(),
        "weak_password" => "Le nouveau mot de passe doit compter de 8 à 256 caractères.".into(),
        "invalid_login" => "Saisissez une adresse e-mail valide, sans espace.".into(),
        "login_taken" => "Cette adresse e-mail est déjà celle d'un autre compte.".into(),
        _ => french_message(error),
    }
}

async fn render_page(
    state: &Cantine,
    caller: &Caller,
    done: Option<&str>,
    refusal: Option<Refusal<'_>>,
    status: StatusCode,
) -> PortalResult<Response> {
    let context = Context::load(state, caller, PATH).await?;
    let login = own_login(state, caller).await?;
    let (password_error, login_error) = match refusal {
        Some(Refusal::Password(message)) => (Some(message), None),
        Some(Refusal::Login(message)) => (None, Some(message)),
        None => (None, None),
    };
    let alert = |message: Option<&str>| -> Markup {
        html! { @if let Some(message) = message { p class="alert" role="alert" { (message) } } }
    };
    let content = html! {
        @if let Some(done) = done {
            p class="info" role="status" { (done) }
        }
        section aria-labelledby="details" {
            h2 id="details" { "Mes informations" }
            dl class="summary" {
                dt { "Famille" }
                dd { (context.family.name) }
                dt { "Identifiant de connexion (adresse e-mail)" }
                dd { (login) }
                dt { "Enfants" }
                dd {
                    ul {
                        @for child in &context.family.children {
                            li { (child.first_name) " " (child.last_name) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="changer-mot-de-passe" {
            h2 id="changer-mot-de-passe" { "Changer mon mot de passe" }
            (alert(password_error))
            form method="post" action="/compte/mot-de-passe" class="stack" {
                (csrf_field(&context.csrf))
                // The login lets password managers file the new password under the account.
                input type="hidden" name="identifiant" value=(login) autocomplete="username";
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
                    label for="mdp-confirmation" { "Confirmation du nouveau mot de passe" }
                    input id="mdp-confirmation" name="confirmation" type="password"
                        autocomplete="new-password" required minlength="8" maxlength="256";
                }
                p { button type="submit" { "Changer mon mot de passe" } }
            }
        }
        section aria-labelledby="changer-identifiant" {
            h2 id="changer-identifiant" { "Changer mon adresse e-mail de connexion" }
            (alert(login_error))
            form method="post" action="/compte/identifiant" class="stack" {
                (csrf_field(&context.csrf))
                p {
                    label for="id-nouveau" { "Nouvelle adresse e-mail" }
                    input id="id-nouveau" name="identifiant" type="email"
                        autocomplete="email" required maxlength="254";
                }
                p {
                    label for="id-mdp-actuel" { "Mot de passe actuel" }
                    input id="id-mdp-actuel" name="mot_de_passe_actuel" type="password"
                        autocomplete="current-password" required maxlength="256";
                }
                p { button type="submit" { "Changer mon adresse e-mail" } }
            }
        }
    };
    Ok(render(
        status,
        page("Mon compte", Some(&context.nav()), content),
    ))
}

/// A refusal the family can act on is shown on the page; a failure of the service is not.
fn shown(error: AppError) -> PortalResult<(StatusCode, String)> {
    let error = ApiError::from(error);
    if error.status.is_server_error() {
        return Err(PortalError(error));
    }
    let message = refusal_message(&error);
    Ok((error.status, message))
}

pub async fn page_get(
    State(state): State<Cantine>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AccountQuery>,
) -> PortalResult<Response> {
    // Only known words are shown: nothing of the address is echoed into the page.
    let done = match query.fait.as_deref() {
        Some("mot-de-passe") => Some("Votre mot de passe est modifié."),
        Some("identifiant") => Some("Votre adresse e-mail de connexion est modifiée."),
        _ => None,
    };
    render_page(&state, &caller, done, None, StatusCode::OK).await
}

pub async fn change_password(
    State(state): State<Cantine>,
    ClientAddr(client): ClientAddr,
    caller: Caller,
    ApiForm(form): ApiForm<PasswordForm>,
) -> PortalResult<Response> {
    if form.nouveau_mot_de_passe != form.confirmation {
        let message =
            "Les deux nouveaux mots de passe ne sont pas identiques : rien n'a été modifié.";
        return render_page(
            &state,
            &caller,
            None,
            Some(Refusal::Password(message)),
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
            let mut response = see_other("/compte?fait=mot-de-passe");
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie(&state, &session.token));
            Ok(response)
        }
        Err(e) => {
            let (status, message) = shown(e)?;
            render_page(
                &state,
                &caller,
                None,
                Some(Refusal::Password(&message)),
                status,
            )
            .await
        }
    }
}

pub async fn change_login(
    State(state): State<Cantine>,
    ClientAddr(client): ClientAddr,
    caller: Caller,
    ApiForm(form): ApiForm<LoginForm>,
) -> PortalResult<Response> {
    match own_account::change_login(
        &state,
        &caller,
        &client,
        &form.mot_de_passe_actuel,
        &form.identifiant,
    )
    .await
    {
        Ok(_) => Ok(see_other("/compte?fait=identifiant")),
        Err(e) => {
            let (status, message) = shown(e)?;
            render_page(
                &state,
                &caller,
                None,
                Some(Refusal::Login(&message)),
                status,
            )
            .await
        }
    }
}
