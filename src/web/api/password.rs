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
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{account_key, throttled, MAX_LOGIN_CHARS, MAX_PASSWORD_CHARS};
use crate::app::accounts::credentials::{hash_password, new_session_token, token_hash};
use crate::app::mail::{password_message, PASSWORD_SUBJECT};
use crate::app::Cantine;
use crate::db;
use crate::db::accounts::UserRow;
use crate::web::access::ClientAddr;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiForm, ApiJson, ApiQuery};

/// How long a password link works.
pub const LINK_LIFETIME_MINUTES: i64 = 60;
pub const MIN_PASSWORD_CHARS: usize = 8;

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

pub const EMAIL_ANSWER: &str = "Si un compte correspond à cette adresse, un e-mail vient de lui être envoyé avec un lien pour choisir votre mot de passe (valable une heure).";

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
    let typed = body.login.trim();
    if typed.is_empty() || typed.chars().count() > MAX_LOGIN_CHARS {
        return Err(ApiError::rule(
            "invalid_login",
            "give the e-mail address of your account",
        ));
    }
    let now = state.clock.now();
    // Limited per login as typed, known or not: the limit itself tells nothing.
    state
        .throttles
        .mail_per_address
        .hit(&client, now)
        .map_err(throttled)?;
    state
        .throttles
        .mail_per_login
        .hit(&typed.to_lowercase(), now)
        .map_err(throttled)?;
    if let Some(user) = db::accounts::user_by_login(&state.pool, typed).await? {
        if user.role == "family" && user.disabled_at.is_none() {
            send_password_link(&state, &user, now).await?;
        } else {
            tracing::info!(user = %user.id, "password e-mail not sent: not an active family account");
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            detail: EMAIL_ANSWER,
        }),
    ))
}

/// Stores a new link for this account and sends it, in the background: the answer does not
/// wait for the mail server, and takes as long for an unknown address.
pub async fn send_password_link(
    state: &Cantine,
    user: &UserRow,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let (token, hash) = new_session_token();
    let expires_at = now + Duration::minutes(LINK_LIFETIME_MINUTES);
    db::accounts::insert_password_link(&state.pool, &hash, user.id, now, expires_at).await?;
    let link = format!("{}/mot-de-passe?jeton={token}", state.public_url);
    let body = password_message(&state.organisation.name, &user.login, &link, expires_at);
    let mailer = state.mailer.clone();
    let to = user.login.clone();
    let user_id = user.id;
    tokio::spawn(async move {
        match mailer.send(&to, PASSWORD_SUBJECT, body).await {
            Ok(()) => tracing::info!(user = %user_id, "password e-mail sent"),
            Err(e) => tracing::error!(user = %user_id, error = %e, "password e-mail not sent"),
        }
    });
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordWithLink {
    /// The `jeton` of the e-mailed link.
    pub token: String,
    pub new_password: String,
}

fn invalid_link() -> ApiError {
    ApiError::rule(
        "invalid_link",
        "ce lien n'est plus valable (déjà utilisé ou expiré) : demandez-en un autre",
    )
}

pub fn check_new_password(password: &str) -> ApiResult<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(ApiError::rule(
            "weak_password",
            "a password needs at least 8 characters",
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(ApiError::rule(
            "weak_password",
            "a password has at most 256 characters",
        ));
    }
    Ok(())
}

pub async fn hash_new_password(password: &str) -> ApiResult<String> {
    let password = password.to_string();
    Ok(crate::app::accounts::password_work::run(move || hash_password(&password)).await??)
}

/// Spends the link and sets the password: unlocks the account, ends its sessions and its other
/// links.
async fn set_password_with_link(state: &Cantine, token: &str, password: &str) -> ApiResult<()> {
    check_new_password(password)?;
    let now = state.clock.now();
    if token.len() > 128 {
        return Err(invalid_link());
    }
    // Hashed before the link is spent, so that a failure here leaves the link usable.
    let hash = hash_new_password(password).await?;
    let user_id = db::accounts::use_password_link(&state.pool, &token_hash(token), now)
        .await?
        .ok_or_else(invalid_link)?;
    db::accounts::set_password(&state.pool, user_id, &hash, now).await?;
    state.throttles.account.forget(&account_key(user_id));
    tracing::info!(user = %user_id, "password set through the e-mailed link");
    Ok(())
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
    set_password_with_link(&state, &body.token, &body.new_password).await?;
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
    let usable = token.len() <= 128
        && db::accounts::password_link_usable(&state.pool, &token_hash(&token), state.clock.now())
            .await?;
    if !usable {
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
    match set_password_with_link(&state, &form.jeton, &form.mot_de_passe).await {
        Ok(()) => Ok((
            StatusCode::OK,
            page_html(
                "Mot de passe enregistré",
                "<p>Votre mot de passe est enregistré. Connectez-vous au portail famille avec votre \
                 adresse e-mail et ce mot de passe.</p>",
            ),
        )),
        Err(e) if e.code == "weak_password" => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            form_html(
                &form.jeton,
                Some("Le mot de passe doit compter de 8 à 256 caractères."),
            ),
        )),
        Err(e) if e.code == "invalid_link" => Ok(expired_page()),
        Err(e) => Err(e),
    }
}
