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
use crate::app::accounts::password_link::{self, request_email, EMAIL_ANSWER};
use crate::app::Cantine;
use crate::web::error::ApiError;
use crate::web::extract::ClientAddr;
use crate::web::extract::{ApiForm, ApiQuery};

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

/// The e-mailed link's page, `/mot-de-passe?jeton=…`: a portal page without a session.
pub const LINK_PATH: &str = "/mot-de-passe";
const LINK_TITLE: &str = "Choisir votre mot de passe";

#[derive(Deserialize)]
pub struct LinkQuery {
    pub jeton: Option<String>,
}

#[derive(Deserialize)]
pub struct LinkForm {
    pub jeton: String,
    pub mot_de_passe: String,
    pub confirmation: String,
}

fn link_form(token: &str, error: Option<&str>, status: StatusCode) -> Response {
    render(
        status,
        page(
            LINK_TITLE,
            None,
            html! {
                p { "Choisissez le mot de passe de votre compte : 8 caractères au moins. Il remplace l'ancien et déverrouille votre compte." }
                @if let Some(error) = error {
                    p class="alert" role="alert" { (error) }
                }
                form method="post" action=(LINK_PATH) class="stack" {
                    input type="hidden" name="jeton" value=(token);
                    p {
                        label for="mot_de_passe" { "Nouveau mot de passe (8 caractères au moins)" }
                        input id="mot_de_passe" name="mot_de_passe" type="password" minlength="8"
                            maxlength="256" required autocomplete="new-password";
                    }
                    p {
                        label for="confirmation" { "Confirmation du mot de passe" }
                        input id="confirmation" name="confirmation" type="password" minlength="8"
                            maxlength="256" required autocomplete="new-password";
                    }
                    p { button type="submit" class="primary" { "Valider" } }
                }
                p { a href="/connexion" { "Retour à la connexion" } }
            },
        ),
    )
}

fn link_expired() -> Response {
    render(
        StatusCode::GONE,
        page(
            "Lien expiré",
            None,
            html! {
                p class="alert" role="alert" {
                    "Ce lien n'est plus valable (déjà utilisé ou expiré). Demandez un nouveau lien avec « Générer votre mot de passe »."
                }
                p class="actions" {
                    a class="button primary" href=(PATH) { "Générer votre mot de passe" } " "
                    a href="/connexion" { "Retour à la connexion" }
                }
            },
        ),
    )
}

/// The page the e-mailed link opens. Spends nothing.
pub async fn link_page(
    State(state): State<Cantine>,
    ApiQuery(query): ApiQuery<LinkQuery>,
) -> PortalResult<Response> {
    let token = query.jeton.unwrap_or_default();
    if !password_link::link_usable(&state, &token).await? {
        return Ok(link_expired());
    }
    Ok(link_form(&token, None, StatusCode::OK))
}

/// The link page's form: sets the password, then leads to the login.
pub async fn link_submit(
    State(state): State<Cantine>,
    ApiForm(form): ApiForm<LinkForm>,
) -> PortalResult<Response> {
    if form.mot_de_passe != form.confirmation {
        return Ok(link_form(
            &form.jeton,
            Some("Les deux mots de passe ne sont pas identiques."),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    match password_link::set_password_with_link(&state, &form.jeton, &form.mot_de_passe).await {
        Ok(_) => Ok(render(
            StatusCode::OK,
            page(
                "Mot de passe enregistré",
                None,
                html! {
                    p class="info" role="status" {
                        "Votre mot de passe est enregistré. Connectez-vous au portail famille avec votre adresse e-mail et ce mot de passe."
                    }
                    p class="actions" { a class="button primary" href="/connexion" { "Se connecter" } }
                },
            ),
        )),
        Err(e) if e.code() == "weak_password" => Ok(link_form(
            &form.jeton,
            Some("Le mot de passe doit compter de 8 à 256 caractères."),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) if e.code() == "invalid_link" => Ok(link_expired()),
        Err(e) => Err(PortalError::from(e)),
    }
}
