//! The town's identity as visitors read it on the login page (migration 0030): its name and
//! address, and the contact details the administrators keep up to date.

use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TownIdentity {
    pub name: String,
    pub address: String,
    pub phone: String,
    pub contact_email: String,
    pub website: String,
    /// Whether the town has a logo (served at `/logo`).
    pub has_logo: bool,
}

pub async fn identity(pool: &PgPool, organisation_id: Uuid) -> sqlx::Result<TownIdentity> {
    sqlx::query_as(
        "SELECT name, address, phone, contact_email, website, logo IS NOT NULL AS has_logo
           FROM organisations WHERE id = $1",
    )
    .bind(organisation_id)
    .fetch_one(pool)
    .await
}

/// The contact details (not the name and address, which invoices already carry).
pub async fn update_contact(
    pool: &PgPool,
    organisation_id: Uuid,
    phone: &str,
    contact_email: &str,
    website: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE organisations SET phone = $2, contact_email = $3, website = $4 WHERE id = $1",
    )
    .bind(organisation_id)
    .bind(phone)
    .bind(contact_email)
    .bind(website)
    .execute(pool)
    .await?;
    Ok(())
}

/// The town's logo and its media type, if it has one.
pub async fn logo(pool: &PgPool, organisation_id: Uuid) -> sqlx::Result<Option<(String, Vec<u8>)>> {
    let row: Option<(Option<String>, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT logo_type, logo FROM organisations WHERE id = $1")
            .bind(organisation_id)
            .fetch_optional(pool)
            .await?;
    Ok(match row {
        Some((Some(media_type), Some(bytes))) => Some((media_type, bytes)),
        _ => None,
    })
}

/// Sets the logo (`Some`) or removes it (`None`).
pub async fn set_logo(
    pool: &PgPool,
    organisation_id: Uuid,
    logo: Option<(&str, &[u8])>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE organisations SET logo_type = $2, logo = $3 WHERE id = $1")
        .bind(organisation_id)
        .bind(logo.map(|(media_type, _)| media_type))
        .bind(logo.map(|(_, bytes)| bytes))
        .execute(pool)
        .await?;
    Ok(())
}
