//! `/connexion` and `/deconnexion`: the login form opens the same session as the API's login
//! (same lock, delays and log, `app::accounts::sessions::sign_in`) and hands its token to the browser in a
//! cookie. The login form has no session yet, so its CSRF check is a double submit: a random
//! value both in a cookie and in the form.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::error::{csrf_refused, french_message, PortalResult};
use super::layout::{page, render, see_other};
use super::session::{
    cookie, expired_cookie, session_cookie, set_cookie, CSRF_FIELD, LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
};
use super::BACK_OFFICE_HOME;
use crate::app::accounts::credentials::new_session_token;
use crate::app::accounts::sessions::{sign_in, sign_out};
use crate::app::Cantine;
use crate::domain::account::Role;
use crate::web::error::ApiError;
use crate::web::extract::ClientAddr;
use crate::web::extract::{ApiForm, ApiQuery, Caller};

#[derive(Deserialize)]
pub struct LoginQuery {
    pub suivant: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub identifiant: String,
    pub mot_de_passe: String,
    pub csrf: String,
    pub suivant: Option<String>,
}

/// Only a path of this site: `//host` or an absolute URL would send the family elsewhere, and
/// browsers drop tabs and newlines from a URL (`/\t/host` is `//host`) and read `\` as `/`, so
/// a path with any control character, space or backslash is refused whole.
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
        {
            path
        }
        _ => "/",
    }
}

/// Staff land in the back office and families in the portal, each at the page asked for when it
/// belongs to their side (a family sent to `/gestion` would only meet a refusal).
fn landing(staff: bool, next: Option<&str>) -> &str {
    let path = local_path(next);
    let back_office = path == BACK_OFFICE_HOME || path.starts_with("/gestion/");
    match (staff, back_office) {
        (true, true) | (false, false) => path,
        (true, false) => BACK_OFFICE_HOME,
        (false, true) => "/",
    }
}

/// The login page with a new double-submit token.
pub fn form(
    state: &Cantine,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (token, _) = new_session_token();
    let next = local_path(next);
    let markup = page(
        "Connexion à votre espace",
        None,
        html! {
            p { "Pour accéder aux services du portail en ligne, veuillez vous identifier." }
            @if let Some(error) = error {
                p class="alert" role="alert" { (error) }
            }
            form method="post" action="/connexion" class="stack" {
                input type="hidden" name=(CSRF_FIELD) value=(token);
                input type="hidden" name="suivant" value=(next);
                p {
                    label for="identifiant" { "Identifiant (votre adresse e-mail)" }
                    input id="identifiant" name="identifiant" type="text" autocomplete="username"
                        required maxlength="254";
                }
                p {
                    label for="mot_de_passe" { "Mot de passe" }
                    input id="mot_de_passe" name="mot_de_passe" type="password"
                        autocomplete="current-password" required maxlength="256";
                }
                p { button type="submit" { "Connexion" } }
            }
            p { a href=(super::password::PATH) { "Générer votre mot de passe" } }
            p class="note" {
                "Attention : votre compte se verrouille après 3 mots de passe erronés. "
                "Mot de passe oublié, jamais reçu ou compte verrouillé ? Utilisez « Générer votre "
                "mot de passe » : un lien vous est envoyé par e-mail."
            }
        },
    );
    let mut response = render(status, markup);
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600),
    );
    response
}

pub async fn page_get(
    State(state): State<Cantine>,
    ApiQuery(query): ApiQuery<LoginQuery>,
) -> Response {
    form(&state, query.suivant.as_deref(), None, StatusCode::OK)
}

pub async fn submit(
    State(state): State<Cantine>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    ApiForm(body): ApiForm<LoginForm>,
) -> PortalResult<Response> {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE);
    if expected.is_none_or(|expected| expected != body.csrf) {
        return Ok(csrf_refused());
    }
    let next = body.suivant.as_deref();
    let session = match sign_in(&state, &client, &body.identifiant, &body.mot_de_passe).await {
        Ok(session) => session,
        Err(e) => {
            let e = ApiError::from(e);
            let message = match e.code {
                "invalid_credentials" => "Identifiant ou mot de passe incorrect.".to_string(),
                "account_disabled" => {
                    "Ce compte est désactivé : contactez votre restaurant scolaire.".to_string()
                }
                _ => french_message(&e),
            };
            return Ok(form(&state, next, Some(&message), e.status));
        }
    };
    let staff = session.role != Role::Family;
    let mut response = see_other(landing(staff, next));
    let cookies = response.headers_mut();
    cookies.append(header::SET_COOKIE, session_cookie(&state, &session.token));
    cookies.append(
        header::SET_COOKIE,
        expired_cookie(&state, LOGIN_CSRF_COOKIE),
    );
    Ok(response)
}

/// Ends the session (the same as the API's logout) and forgets the cookie.
pub async fn logout(State(state): State<Cantine>, caller: Caller) -> PortalResult<Response> {
    sign_out(&state, &caller).await?;
    let mut response = see_other("/connexion");
    response
        .headers_mut()
        .append(header::SET_COOKIE, expired_cookie(&state, SESSION_COOKIE));
    Ok(response)
}
