//! Families: created with their account (the login is the family's e-mail), found by name or
//! e-mail a page at a time.

use uuid::Uuid;

use super::family_accounts::{valid_family_login, FamilyAccount};
use super::{log_change, non_empty};
use crate::app::accounts::credentials::hash_password;
use crate::app::accounts::own_account::login_taken;
use crate::app::accounts::password_work;
use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;

/// A password, when staff choose one, has 8 to 256 characters (as one a family chooses).
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=256;

pub struct NewFamily<'a> {
    pub name: &'a str,
    /// The family's e-mail address.
    pub login: &'a str,
    /// Usually none: the family chooses it through the password e-mail.
    pub password: Option<&'a str>,
}

/// Creates the family and its account; answers the family's id.
pub async fn create(cantine: &Cantine, caller: &Caller, new: NewFamily<'_>) -> AppResult<Uuid> {
    let name = non_empty("name", new.name)?;
    let login = non_empty("login", new.login)?;
    valid_family_login(login)?;
    if db::accounts::user_by_login(&cantine.pool, login)
        .await?
        .is_some()
    {
        return Err(login_taken());
    }
    let hash = match new.password {
        Some(password) => Some(hash_new_password(password).await?),
        None => None,
    };
    let family_id = Uuid::now_v7();
    let created = db::families::insert_family_account(
        &cantine.pool,
        db::families::NewFamilyAccount {
            organisation_id: cantine.organisation.id,
            family_id,
            name,
            login,
            password_hash: hash.as_deref(),
            now: cantine.clock.now(),
        },
    )
    .await?;
    if !created {
        return Err(login_taken());
    }
    log_change(caller, "family created", family_id);
    Ok(family_id)
}

async fn hash_new_password(password: &str) -> AppResult<String> {
    let chars = password.chars().count();
    if chars < *PASSWORD_CHARS.start() {
        return Err(AppError::rule(
            "weak_password",
            "a password needs at least 8 characters",
        ));
    }
    if chars > *PASSWORD_CHARS.end() {
        return Err(AppError::rule(
            "weak_password",
            "a password has at most 256 characters",
        ));
    }
    let password = password.to_string();
    Ok(password_work::run(move || hash_password(&password)).await??)
}

/// One page of the families whose name or e-mail contains `search`, by name, and how many
/// there are in all.
pub struct FamiliesPage {
    pub families: Vec<FamilyAccount>,
    pub total: i64,
}

/// The `page`th page (from 1) of `per_page` families.
pub async fn search(
    cantine: &Cantine,
    search: &str,
    page: i64,
    per_page: i64,
) -> AppResult<FamiliesPage> {
    let (families, total) = db::accounts::search_families(
        &cantine.pool,
        cantine.organisation.id,
        search,
        (page - 1) * per_page,
        per_page,
    )
    .await?;
    Ok(FamiliesPage { families, total })
}
