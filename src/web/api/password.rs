//! "Générer votre mot de passe" (second guide): a family that has no password yet, or forgot
//! it, asks for a link by e-mail. The answer is the same whether the e-mail is known or not; the
//! link is single-use, expires after an hour, and choosing a password through it also lifts the
//! lock of three wrong passwords and ends every session.
//!
//! The link points to `/mot-de-passe?jeton=…`, a portal page (`pages::password`) whose form sets
//! the password; programs use `POST /api/v1/auth/password {token, new_password}`. Opening the
//! page spends nothing (mail scanners open links), only setting the password does.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::accounts::password_link;
use crate::app::Cantine;
use crate::web::error::ApiResult;
use crate::web::extract::ApiJson;
use crate::web::extract::ClientAddr;

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
