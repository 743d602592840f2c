//! "Générer votre mot de passe" (second guide): a family that has no password yet, or forgot
//! it, asks for a link by e-mail. The answer is the same whether the e-mail is known or not; the
//! link is single-use, expires after an hour, and choosing a password through it also lifts the
//! lock of three wrong passwords and ends every session.
//!
//! The link points to `/mot-de-passe?jeton=…`, a small French page whose form sets the
//! password; programs use `POST /api/v1/auth/password {token, new_password}`. Opening the page
//! spends nothing (mail scanners open links), only setting the password does.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::accounts::password_link;
use crate::app::Cantine;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::ClientAddr;
use crate::web::extract::{ApiForm, ApiJson, ApiQuery};

/// Kept here for the API modules (and tests) that name them.
pub use crate::app::accounts::password_link::{
    check_new_password, send_password_link, EMAIL_ANSWER,
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordEmailRequest {
    /// The family's login, its e-mail address.
    pub login: String,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub detail: &'static str,
}

/// Asks for the password e-mail. 202 whether the address is known or not.
#[utoipa::path(post, path = "/api/v1/auth/password-email", tag = "auth", request_body = PasswordEmailRequest,
    security(()),
    responses((status = 202, body = Accepted), (status = 422, body = crate::web::error::Problem),
              (status = 429, body = crate::web::error::Problem)))]
pub async fn request_email(
    State(state): State<Cantine>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<PasswordEmailRequest>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    password_link::request_email(&state, &client, &body.login).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            detail: EMAIL_ANSWER,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordWithLink {
    /// The `jeton` of the e-mailed link.
    pub token: String,
    pub new_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Done {
    pub detail: &'static str,
}

/// Sets the password with the e-mailed link's token (single use).
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordWithLink,
    security(()),
    responses((status = 200, body = Done), (status = 422, body = crate::web::error::Problem)))]
pub async fn set_with_link(
    State(state): State<Cantine>,
    ApiJson(body): ApiJson<PasswordWithLink>,
) -> ApiResult<Json<Done>> {
    password_link::set_password_with_link(&state, &body.token, &body.new_password).await?;
    Ok(Json(Done {
        detail: "Votre mot de passe est enregistré : connectez-vous avec votre adresse e-mail.",
    }))
}

#[derive(Deserialize)]
pub struct PageQuery {
    pub jeton: Option<String>,
}

#[derive(Deserialize)]
pub struct PageForm {
    pub jeton: String,
    pub mot_de_passe: String,
    pub confirmation: String,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page_html(title: &str, content: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head>\
         <body><main><h1>{title}</h1>{content}</main></body></html>"
    ))
}

fn form_html(token: &str, error: Option<&str>) -> Html<String> {
    let error = error
        .map(|e| format!("<p role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    page_html(
        "Choisir votre mot de passe",
        &format!(
            "{error}<form method=\"post\" action=\"/mot-de-passe\">\
             <input type=\"hidden\" name=\"jeton\" value=\"{}\">\
             <p><label>Nouveau mot de passe (8 caractères au moins)<br>\
             <input type=\"password\" name=\"mot_de_passe\" minlength=\"8\" required autocomplete=\"new-password\"></label></p>\
             <p><label>Confirmation<br>\
             <input type=\"password\" name=\"confirmation\" minlength=\"8\" required autocomplete=\"new-password\"></label></p>\
             <p><button>Valider</button></p></form>",
            escape(token)
        ),
    )
}

fn expired_page() -> (StatusCode, Html<String>) {
    (
        StatusCode::GONE,
        page_html(
            "Lien expiré",
            "<p>Ce lien n'est plus valable (déjà utilisé ou expiré). Demandez un nouveau lien avec \
             « Générer votre mot de passe ».</p>",
        ),
    )
}

/// The page the e-mailed link opens. Spends nothing.
pub async fn page(
    State(state): State<Cantine>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<(StatusCode, Html<String>)> {
    let token = query.jeton.unwrap_or_default();
    if !password_link::link_usable(&state, &token).await? {
        return Ok(expired_page());
    }
    Ok((StatusCode::OK, form_html(&token, None)))
}

/// The page's form.
pub async fn page_submit(
    State(state): State<Cantine>,
    ApiForm(form): ApiForm<PageForm>,
) -> ApiResult<(StatusCode, Html<String>)> {
    if form.mot_de_passe != form.confirmation {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            form_html(
                &form.jeton,
                Some("Les deux mots de passe ne sont pas identiques."),
            ),
        ));
    }
    match password_link::set_password_with_link(&state, &form.jeton, &form.mot_de_passe).await {
        Ok(_) => Ok((
            StatusCode::OK,
            page_html(
                "Mot de passe enregistré",
                "<p>Votre mot de passe est enregistré. Connectez-vous au portail famille avec votre \
                 adresse e-mail et ce mot de passe.</p>",
            ),
        )),
        Err(e) if e.code() == "weak_password" => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            form_html(
                &form.jeton,
                Some("Le mot de passe doit compter de 8 à 256 caractères."),
            ),
        )),
        Err(e) if e.code() == "invalid_link" => Ok(expired_page()),
        Err(e) => Err(ApiError::from(e)),
    }
}
