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
}

pub async fn identity(pool: &PgPool, organisation_id: Uuid) -> sqlx::Result<TownIdentity> {
    sqlx::query_as(
        "SELECT name, address, phone, contact_email, website FROM organisations WHERE id = $1",
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
