//! `/connexion` and `/deconnexion`: the login form opens the same session as the API's login
//! (same lock, delays and log, `app::accounts::sessions::sign_in`) and hands its token to the browser in a
//! cookie. The login form has no session yet, so its CSRF check is a double submit: a random
//! value both in a cookie and in the form.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use uuid::Uuid;

use super::error::{csrf_refused, french_message, PortalResult};
use super::layout::{page, render, see_other};
use super::session::{
    cookie, expired_cookie, session_cookie, set_cookie, CSRF_FIELD, LOGIN_CSRF_COOKIE, NEXT_COOKIE,
    SESSION_COOKIE,
};
use super::BACK_OFFICE_HOME;
use crate::app::accounts::credentials::new_session_token;
use crate::app::accounts::sessions::{sign_in, sign_out};
use crate::app::documents::{self, DocumentRow};
use crate::app::town::{self, TownIdentity};
use crate::app::Cantine;
use crate::domain::account::Role;
use crate::web::error::ApiError;
use crate::web::extract::ClientAddr;
use crate::web::extract::{ApiForm, ApiPath, ApiQuery, Caller};
use crate::web::file_download::download as file_download;

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

/// The login page with a new double-submit token, beside the town's identity and the documents
/// anyone may read (the first guide's visitor page). If those cannot be read, the form is still
/// served: logging in matters more than the sidebar.
pub async fn form(
    state: &Cantine,
    next: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (token, _) = new_session_token();
    let next = local_path(next);
    let town = town::identity(state).await.ok();
    let documents = documents::public(state).await.unwrap_or_default();
    let markup = page(
        "Connexion à votre espace",
        None,
        html! {
            p {
                "Pour accéder aux services du portail en ligne, veuillez vous identifier. "
                "Si vous ne possédez pas encore de compte famille, merci de nous contacter afin "
                "que nous puissions créer votre identifiant."
            }
            div class="login" {
            div {
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
            }
            (town_aside(town.as_ref(), &documents))
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

/// Who runs the canteen and how to reach them, and the documents to download.
fn town_aside(town: Option<&TownIdentity>, documents: &[DocumentRow]) -> Markup {
    html! {
        aside class="town" aria-labelledby="commune" {
            @if let Some(town) = town {
                @if town.has_logo {
                    img class="town-logo" src=(LOGO) alt=(format!("Logo de {}", town.name));
                }
                h2 id="commune" { (town.name) }
                @if !town.address.trim().is_empty() {
                    p { (town.address) }
                }
                @if !town.phone.is_empty() {
                    p { "Tél : " a href=(format!("tel:{}", tel_uri(&town.phone))) { (town.phone) } }
                }
                @if !town.contact_email.is_empty() {
                    p { a href=(format!("mailto:{}", town.contact_email)) { "Contactez-nous" }
                        " (" (town.contact_email) ")" }
                }
                @if !town.website.is_empty() {
                    h3 { "Liens utiles" }
                    p { a href=(town.website) { "Site de " (town.name) } }
                }
            } @else {
                h2 id="commune" { "Restauration scolaire" }
            }
            h3 { "Documents à télécharger" }
            @if documents.is_empty() {
                p class="note" { "Aucun document n'est publié pour le moment." }
            } @else {
                ul {
                    @for document in documents {
                        li {
                            a href=(format!("{PUBLIC_DOCUMENTS}/{}", document.id)) { (document.title) }
                            " (PDF, " (kilobytes(document.size)) ")"
                        }
                    }
                }
            }
        }
    }
}

/// Where visitors download the public documents.
pub const PUBLIC_DOCUMENTS: &str = "/documents-publics";

/// Where the town's logo is served, to anyone.
pub const LOGO: &str = "/logo";

/// The town's logo: the image, as stored (its type checked when it was), or 404 without one.
/// Browsers may keep it five minutes: a replaced logo shows within that.
pub async fn logo(State(state): State<Cantine>) -> PortalResult<Response> {
    let Some(logo) = town::logo(&state).await? else {
        return Err(crate::app::AppError::not_found("logo").into());
    };
    Ok((
        [
            (header::CONTENT_TYPE, logo.media_type),
            (header::CACHE_CONTROL, "public, max-age=300".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        logo.bytes,
    )
        .into_response())
}

/// A phone number as a `tel:` link wants it: the digits and a leading `+`.
fn tel_uri(phone: &str) -> String {
    phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

fn kilobytes(size: i32) -> String {
    format!("{} Ko", (i64::from(size) + 1023) / 1024)
}

/// A public document (the rules, the tariff deliberation) for anyone, logged in or not.
pub async fn public_document(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
) -> PortalResult<Response> {
    let file = documents::public_file(&state, id).await?;
    Ok(file_download(file))
}

pub async fn page_get(
    State(state): State<Cantine>,
    ApiQuery(query): ApiQuery<LoginQuery>,
) -> Response {
    form(&state, query.suivant.as_deref(), None, StatusCode::OK).await
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
    // The form's own `suivant` (`/connexion?suivant=…`), else the page the guard remembered.
    let remembered = cookie(&headers, NEXT_COOKIE)
        .and_then(|v| hex::decode(v).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let next = body
        .suivant
        .as_deref()
        .filter(|path| !path.is_empty() && *path != "/")
        .or(remembered.as_deref());
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
            return Ok(form(&state, next, Some(&message), e.status).await);
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
    if remembered.is_some() {
        cookies.append(header::SET_COOKIE, expired_cookie(&state, NEXT_COOKIE));
    }
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
