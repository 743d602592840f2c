//! A new family and its account, written together: a family without its login would be a
//! family nobody can open.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::account::Role;
use crate::domain::family_contact::FamilyContact;

pub struct NewFamilyAccount<'a> {
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    pub name: &'a str,
    pub login: &'a str,
    pub password_hash: Option<&'a str>,
    /// The service's clock: how long a family has been gone is counted from it.
    pub now: DateTime<Utc>,
}

/// Inserts the family and its user in one transaction; false (and nothing written) when the
/// login was taken in the meantime.
pub async fn insert_family_account(pool: &PgPool, new: NewFamilyAccount<'_>) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO families (id, organisation_id, name, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(new.family_id)
    .bind(new.organisation_id)
    .bind(new.name)
    .bind(new.now)
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO users (id, login, password_hash, role, family_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(new.login)
    .bind(new.password_hash)
    .bind(Role::Family.as_str())
    .bind(new.family_id)
    .bind(new.now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    address: Option<String>,
    phone: Option<String>,
    mobile_phone: Option<String>,
    second_guardian_name: Option<String>,
    second_guardian_phone: Option<String>,
    second_guardian_email: Option<String>,
}

/// The family's contact details, or `None` when there is no such family.
pub async fn contact(pool: &PgPool, family_id: Uuid) -> sqlx::Result<Option<FamilyContact>> {
    let row: Option<ContactRow> = sqlx::query_as(
        "SELECT address, phone, mobile_phone, second_guardian_name, second_guardian_phone,
                second_guardian_email
           FROM families WHERE id = $1",
    )
    .bind(family_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| FamilyContact {
        address: r.address,
        phone: r.phone,
        mobile_phone: r.mobile_phone,
        second_guardian_name: r.second_guardian_name,
        second_guardian_phone: r.second_guardian_phone,
        second_guardian_email: r.second_guardian_email,
    }))
}

/// Replaces the family's contact details; false when there is no such family.
pub async fn set_contact(
    pool: &PgPool,
    family_id: Uuid,
    contact: &FamilyContact,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE families SET address = $2, phone = $3, mobile_phone = $4,
                second_guardian_name = $5, second_guardian_phone = $6, second_guardian_email = $7
          WHERE id = $1",
    )
    .bind(family_id)
    .bind(&contact.address)
    .bind(&contact.phone)
    .bind(&contact.mobile_phone)
    .bind(&contact.second_guardian_name)
    .bind(&contact.second_guardian_phone)
    .bind(&contact.second_guardian_email)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
