//! `/connexion/mot-de-passe`, "Générer votre mot de passe": a family without a session asks for
//! the password link by e-mail, through the same use case as the API
//! (`app::accounts::password_link`: same limits, same answer whether the address is known or
//! not). Like the login form, its CSRF check is a double submit.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::error::{csrf_refused, french_message, PortalError, PortalResult};
use super::layout::{page, render};
use super::session::{cookie, set_cookie, CSRF_FIELD, LOGIN_CSRF_COOKIE};
use crate::app::accounts::credentials::new_session_token;
use crate::app::accounts::password_link::{request_email, EMAIL_ANSWER};
use crate::app::Cantine;
use crate::web::error::ApiError;
use crate::web::extract::ApiForm;
use crate::web::extract::ClientAddr;

pub const PATH: &str = "/connexion/mot-de-passe";
const TITLE: &str = "Générer votre mot de passe";

#[derive(Deserialize)]
pub struct EmailForm {
    pub identifiant: String,
    pub csrf: String,
}

fn form(state: &Cantine, error: Option<&str>, status: StatusCode) -> Response {
    let (token, _) = new_session_token();
    let markup = page(
        TITLE,
        None,
        html! {
            p {
                "Saisissez l'adresse e-mail de votre compte : vous recevrez un lien, valable une \
                 heure, pour choisir votre mot de passe. Choisir un mot de passe par ce lien \
                 déverrouille aussi votre compte."
            }
            @if let Some(error) = error {
                p class="alert" role="alert" { (error) }
            }
            form method="post" action=(PATH) class="stack" {
                input type="hidden" name=(CSRF_FIELD) value=(token);
                p {
                    label for="identifiant" { "Identifiant (votre adresse e-mail)" }
                    input id="identifiant" name="identifiant" type="email" autocomplete="email"
                        required maxlength="254";
                }
                p { button type="submit" { "Recevoir le lien par e-mail" } }
            }
            p { a href="/connexion" { "Retour à la connexion" } }
        },
    );
    let mut response = render(status, markup);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600),
    );
    response
}

pub async fn page_get(State(state): State<Cantine>) -> Response {
    form(&state, None, StatusCode::OK)
}

pub async fn submit(
    State(state): State<Cantine>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiForm(body): ApiForm<EmailForm>,
) -> PortalResult<Response> {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE);
    if expected.is_none_or(|expected| expected != body.csrf) {
        return Ok(csrf_refused());
    }
    match request_email(&state, &client, &body.identifiant)
        .await
        .map_err(ApiError::from)
    {
        Ok(()) => Ok(render(
            StatusCode::OK,
            page(
                TITLE,
                None,
                html! {
                    p class="info" role="status" { (EMAIL_ANSWER) }
                    p { a href="/connexion" { "Retour à la connexion" } }
                },
            ),
        )),
        Err(e) if e.status.is_server_error() => Err(PortalError(e)),
        Err(e) => {
            let message = match e.code {
                "invalid_login" => "Saisissez l'adresse e-mail de votre compte.".to_string(),
                _ => french_message(&e),
            };
            Ok(form(&state, Some(&message), e.status))
        }
    }
}
