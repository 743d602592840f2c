//! Town staff manage family accounts (first guide: "ask your restaurant for your login"): see,
//! edit, disable and enable, unlock, send the password e-mail; admins and auditors read the
//! login log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::account::{login_taken, valid_login};
use super::auth::account_key;
use super::password::{send_password_link, Accepted};
use crate::app::Cantine;
use crate::db;
use crate::db::accounts::{FamilyAccountRow, LoginAttemptRow, UserRow};
use crate::domain::account::Role;
use crate::web::error::{ApiError, ApiResult};
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

async fn account(state: &Cantine, family_id: Uuid) -> ApiResult<FamilyAccount> {
    db::accounts::family_account(&state.pool, state.organisation.id, family_id)
        .await?
        .map(FamilyAccount::from)
        .ok_or_else(|| ApiError::not_found("family"))
}

async fn family_user(state: &Cantine, family_id: Uuid) -> ApiResult<UserRow> {
    db::accounts::family_user(&state.pool, state.organisation.id, family_id)
        .await?
        .ok_or_else(|| ApiError::not_found("family"))
}

#[utoipa::path(get, path = "/api/v1/admin/families/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 200, body = FamilyAccount), (status = 404, body = crate::web::error::Problem)))]
pub async fn show(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<FamilyAccount>> {
    Ok(Json(account(&state, id).await?))
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
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<FamilyEdit>,
) -> ApiResult<Json<FamilyAccount>> {
    let user = family_user(&state, id).await?;
    let name = body.name.as_deref().map(str::trim);
    if name.is_some_and(|n| n.is_empty() || n.chars().count() > 200) {
        return Err(ApiError::rule(
            "empty_field",
            "`name` must have 1 to 200 characters",
        ));
    }
    let login = body.login.as_deref().map(str::trim);
    if let Some(login) = login {
        valid_login(Role::Family, login)?;
    }
    // Checked before anything changes: a refused edit changes nothing.
    if let Some(login) = login {
        if let Some(other) = db::accounts::user_by_login(&state.pool, login).await? {
            if other.id != user.id {
                return Err(login_taken());
            }
        }
        if !db::accounts::change_login(&state.pool, user.id, login).await? {
            return Err(login_taken());
        }
    }
    if let Some(name) = name {
        db::accounts::rename_family(&state.pool, id, name).await?;
    }
    Ok(Json(account(&state, id).await?))
}

/// Disables the account: its sessions end and its password no longer opens it.
#[utoipa::path(post, path = "/api/v1/admin/families/{id}/disable", tag = "admin",
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 200, body = FamilyAccount), (status = 404, body = crate::web::error::Problem)))]
pub async fn disable(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<FamilyAccount>> {
    let user = family_user(&state, id).await?;
    db::accounts::set_disabled(&state.pool, user.id, true, state.clock.now()).await?;
    tracing::info!(user = %user.id, "account disabled");
    Ok(Json(account(&state, id).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/families/{id}/enable", tag = "admin",
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 200, body = FamilyAccount), (status = 404, body = crate::web::error::Problem)))]
pub async fn enable(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<FamilyAccount>> {
    let user = family_user(&state, id).await?;
    db::accounts::set_disabled(&state.pool, user.id, false, state.clock.now()).await?;
    tracing::info!(user = %user.id, "account enabled");
    Ok(Json(account(&state, id).await?))
}

/// Lifts the lock of three wrong passwords (the family can also do it with the password link).
#[utoipa::path(post, path = "/api/v1/admin/families/{id}/unlock", tag = "admin",
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 200, body = FamilyAccount), (status = 404, body = crate::web::error::Problem)))]
pub async fn unlock(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<FamilyAccount>> {
    let user = family_user(&state, id).await?;
    db::accounts::unlock(&state.pool, user.id).await?;
    state.throttles.account.forget(&account_key(user.id));
    tracing::info!(user = %user.id, "account unlocked by staff");
    Ok(Json(account(&state, id).await?))
}

/// Sends the family the password e-mail (a new account, or a family at the counter).
#[utoipa::path(post, path = "/api/v1/admin/families/{id}/password-email", tag = "admin",
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 202, body = Accepted), (status = 404, body = crate::web::error::Problem),
              (status = 409, body = crate::web::error::Problem)))]
pub async fn send_password_email(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let user = family_user(&state, id).await?;
    if user.disabled_at.is_some() {
        return Err(ApiError::conflict(
            "account_disabled",
            "enable the account first",
        ));
    }
    send_password_link(&state, &user, state.clock.now()).await?;
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
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_parameter",
            "limit is between 1 and 500",
        ));
    }
    Ok(Json(
        db::accounts::login_attempts(&state.pool, query.before, limit).await?,
    ))
}
