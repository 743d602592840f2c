//! Town staff manage family accounts (first guide: "ask your restaurant for your login"): see,
//! edit, disable and enable, unlock, send the password e-mail; admins and auditors read the
//! login log. The use cases are `app::administration::{family_accounts, login_log}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::password::Accepted;
use crate::app::administration::{family_accounts, login_log, staff};
use crate::app::{Caller, Cantine};
use crate::db::accounts::{FamilyAccountRow, LoginAttemptRow};
use crate::web::error::ApiResult;
use crate::web::extract::{ApiJson, ApiPath, ApiQuery};

#[derive(Serialize, ToSchema)]
pub struct FamilyAccount {
    pub id: Uuid,
    pub name: String,
    /// The family's e-mail address.
    pub login: String,
    pub has_password: bool,
    pub locked: bool,
    pub disabled: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub anonymised: bool,
    /// Quotient familial in euros, set with `PUT .../quotient`; null: unknown (top price).
    pub quotient_familial: Option<i32>,
}

impl From<FamilyAccountRow> for FamilyAccount {
    fn from(row: FamilyAccountRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            login: row.login,
            has_password: row.has_password,
            locked: row.locked_at.is_some(),
            disabled: row.disabled_at.is_some(),
            last_login_at: row.last_login_at,
            anonymised: row.anonymised_at.is_some(),
            quotient_familial: row.quotient_familial,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/admin/families/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 200, body = FamilyAccount), (status = 404, body = crate::web::error::Problem)))]
pub async fn show(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<FamilyAccount>> {
    Ok(Json(family_accounts::show(&state, id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilyEdit {
    pub name: Option<String>,
    /// The family's new e-mail address.
    pub login: Option<String>,
}

/// Edits a family's name or login (its e-mail), as the family asked at the counter.
#[utoipa::path(patch, path = "/api/v1/admin/families/{id}", tag = "admin", request_body = FamilyEdit,
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 200, body = FamilyAccount), (status = 404, body = crate::web::error::Problem),
              (status = 409, body = crate::web::error::Problem), (status = 422, body = crate::web::error::Problem)))]
pub async fn edit(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<FamilyEdit>,
) -> ApiResult<Json<FamilyAccount>> {
    let account = family_accounts::edit(
        &state,
        &caller,
        id,
        body.name.as_deref(),
        body.login.as_deref(),
    )
    .await?;
    Ok(Json(account.into()))
}

/// Disables the account: its sessions end and its password no longer opens it.
#[utoipa::path(post, path = "/api/v1/admin/families/{id}/disable", tag = "admin",
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 200, body = FamilyAccount), (status = 404, body = crate::web::error::Problem)))]
pub async fn disable(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<FamilyAccount>> {
    Ok(Json(
        family_accounts::disable(&state, &caller, id).await?.into(),
    ))
}

#[utoipa::path(post, path = "/api/v1/admin/families/{id}/enable", tag = "admin",
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 200, body = FamilyAccount), (status = 404, body = crate::web::error::Problem)))]
pub async fn enable(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<FamilyAccount>> {
    Ok(Json(
        family_accounts::enable(&state, &caller, id).await?.into(),
    ))
}

/// Lifts the lock of three wrong passwords (the family can also do it with the password link).
#[utoipa::path(post, path = "/api/v1/admin/families/{id}/unlock", tag = "admin",
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 200, body = FamilyAccount), (status = 404, body = crate::web::error::Problem)))]
pub async fn unlock(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<FamilyAccount>> {
    Ok(Json(
        family_accounts::unlock(&state, &caller, id).await?.into(),
    ))
}

/// Sends the family the password e-mail (a new account, or a family at the counter).
#[utoipa::path(post, path = "/api/v1/admin/families/{id}/password-email", tag = "admin",
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 202, body = Accepted), (status = 404, body = crate::web::error::Problem),
              (status = 409, body = crate::web::error::Problem)))]
pub async fn send_password_email(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    family_accounts::send_password_email(&state, &caller, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            detail: "Le lien a été envoyé à l'adresse e-mail de la famille.",
        }),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct LoginLogQuery {
    /// Attempts older than this id (the next page).
    pub before: Option<i64>,
    /// 1 to 500, default 100.
    pub limit: Option<i64>,
}

/// The login log, newest first: who, when, from where, the result; never a password.
#[utoipa::path(get, path = "/api/v1/audit/logins", tag = "audit", params(LoginLogQuery),
    responses((status = 200, body = Vec<LoginAttemptRow>), (status = 400, body = crate::web::error::Problem)))]
pub async fn login_log(
    State(state): State<Cantine>,
    ApiQuery(query): ApiQuery<LoginLogQuery>,
) -> ApiResult<Json<Vec<LoginAttemptRow>>> {
    Ok(Json(
        login_log::page(&state, query.before, query.limit).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffLogin {
    pub login: String,
}

#[derive(Serialize, ToSchema)]
pub struct StaffAccount {
    pub login: String,
    /// `admin`, `kitchen`, `finance` or `auditor`
    pub role: String,
    pub locked: bool,
}

/// Lifts a staff account's lock (three wrong passwords); its open sessions were never ended.
#[utoipa::path(post, path = "/api/v1/admin/staff/unlock", tag = "admin", request_body = StaffLogin,
    responses((status = 200, body = StaffAccount), (status = 404, body = crate::web::error::Problem)))]
pub async fn unlock_staff(
    State(state): State<Cantine>,
    caller: Caller,
    ApiJson(body): ApiJson<StaffLogin>,
) -> ApiResult<Json<StaffAccount>> {
    let account = staff::unlock(&state, &caller, &body.login).await?;
    Ok(Json(StaffAccount {
        login: account.login,
        role: account.role.as_str().to_string(),
        locked: false,
    }))
}
