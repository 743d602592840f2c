//! Reference data managed by town staff: the organisation, restaurants, periods, families and
//! children.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::meal_option::MealOption;
use crate::domain::period::{PaymentMode, PeriodRules, ServiceHours};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub address: String,
}

/// This deployment serves one organisation (a town or a community of towns); the schema keeps
/// the organisation on every row so that several can share a database later.
pub async fn organisation(pool: &PgPool) -> sqlx::Result<Option<Organisation>> {
    sqlx::query_as("SELECT id, name, address FROM organisations ORDER BY created_at LIMIT 1")
        .fetch_optional(pool)
        .await
}

pub async fn ensure_organisation(
    pool: &PgPool,
    name: &str,
    address: &str,
) -> sqlx::Result<Organisation> {
    if let Some(org) = organisation(pool).await? {
        return Ok(org);
    }
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO organisations (id, name, address) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(name)
        .bind(address)
        .execute(pool)
        .await?;
    Ok(Organisation {
        id,
        name: name.into(),
        address: address.into(),
    })
}

pub async fn insert_restaurant(
    pool: &PgPool,
    organisation_id: Uuid,
    name: &str,
    capacity: i32,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO restaurants (id, organisation_id, name, capacity) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(organisation_id)
    .bind(name)
    .bind(capacity)
    .execute(pool)
    .await?;
    Ok(id)
}

pub async fn restaurant_capacity(
    pool: &PgPool,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<i32>> {
    let row: Option<(i32,)> =
        sqlx::query_as("SELECT capacity FROM restaurants WHERE id = $1 AND organisation_id = $2")
            .bind(id)
            .bind(organisation_id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|r| r.0))
}

pub struct NewPeriod {
    pub restaurant_id: Uuid,
    pub activity: String,
    pub label: String,
    pub service: ServiceHours,
    pub rules: PeriodRules,
    pub payment: PaymentMode,
    pub unit_price: Decimal,
    pub capacity: i32,
}

pub async fn insert_period(pool: &PgPool, period: NewPeriod) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO periods (id, restaurant_id, activity, label, service, rules, payment, unit_price, capacity)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(period.restaurant_id)
    .bind(&period.activity)
    .bind(&period.label)
    .bind(Json(&period.service))
    .bind(Json(&period.rules))
    .bind(Json(&period.payment))
    .bind(period.unit_price)
    .bind(period.capacity)
    .execute(pool)
    .await?;
    Ok(id)
}

pub async fn insert_family(pool: &PgPool, organisation_id: Uuid, name: &str) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO families (id, organisation_id, name) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(organisation_id)
        .bind(name)
        .execute(pool)
        .await?;
    Ok(id)
}

pub async fn family_exists(pool: &PgPool, organisation_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    let (exists,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM families WHERE id = $1 AND organisation_id = $2)",
    )
    .bind(id)
    .bind(organisation_id)
    .fetch_one(pool)
    .await?;
    Ok(exists)
}

pub async fn insert_child(
    pool: &PgPool,
    family_id: Uuid,
    first_name: &str,
    last_name: &str,
    meal_option: &str,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO children (id, family_id, first_name, last_name, meal_option) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(family_id)
        .bind(first_name)
        .bind(last_name)
        .bind(meal_option)
        .execute(pool)
        .await?;
    Ok(id)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChildRow {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FamilyRow {
    pub id: Uuid,
    pub name: String,
}

pub async fn family(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<(FamilyRow, Vec<ChildRow>)>> {
    let Some(family): Option<FamilyRow> =
        sqlx::query_as("SELECT id, name FROM families WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    else {
        return Ok(None);
    };
    let children = sqlx::query_as(
        "SELECT id, first_name, last_name FROM children WHERE family_id = $1 ORDER BY first_name, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(Some((family, children)))
}

pub async fn child_belongs_to(
    pool: &PgPool,
    child_id: Uuid,
    family_id: Uuid,
) -> sqlx::Result<bool> {
    let (exists,): (bool,) =
        sqlx::query_as("SELECT EXISTS (SELECT 1 FROM children WHERE id = $1 AND family_id = $2)")
            .bind(child_id)
            .bind(family_id)
            .fetch_one(pool)
            .await?;
    Ok(exists)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PeriodRow {
    pub id: Uuid,
    pub restaurant_id: Uuid,
    pub restaurant_name: String,
    pub activity: String,
    pub label: String,
    pub service: Json<ServiceHours>,
    pub rules: Json<PeriodRules>,
    pub payment: Json<PaymentMode>,
    pub unit_price: Decimal,
    pub capacity: i32,
}

const PERIOD_COLUMNS: &str =
    "p.id, p.restaurant_id, r.name AS restaurant_name, p.activity, p.label,
    p.service, p.rules, p.payment, p.unit_price, p.capacity";

pub async fn periods(pool: &PgPool, organisation_id: Uuid) -> sqlx::Result<Vec<PeriodRow>> {
    sqlx::query_as(&format!(
        "SELECT {PERIOD_COLUMNS} FROM periods p JOIN restaurants r ON r.id = p.restaurant_id
          WHERE r.organisation_id = $1 ORDER BY r.name, r.id, p.created_at"
    ))
    .bind(organisation_id)
    .fetch_all(pool)
    .await
}

pub async fn period(
    pool: &PgPool,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<PeriodRow>> {
    sqlx::query_as(&format!(
        "SELECT {PERIOD_COLUMNS} FROM periods p JOIN restaurants r ON r.id = p.restaurant_id
          WHERE p.id = $1 AND r.organisation_id = $2"
    ))
    .bind(id)
    .bind(organisation_id)
    .fetch_optional(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RestaurantRow {
    pub id: Uuid,
    pub name: String,
}

pub async fn restaurants(pool: &PgPool, organisation_id: Uuid) -> sqlx::Result<Vec<RestaurantRow>> {
    sqlx::query_as("SELECT id, name FROM restaurants WHERE organisation_id = $1 ORDER BY name, id")
        .bind(organisation_id)
        .fetch_all(pool)
        .await
}

// The administrators' back office: restaurants with their capacity, children with their meal
// option, a period's capacity overrides, and the edits the API's admin routes make.

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RestaurantDetail {
    pub id: Uuid,
    pub name: String,
    pub capacity: i32,
    pub periods: i64,
}

pub async fn restaurant_details(
    pool: &PgPool,
    organisation_id: Uuid,
) -> sqlx::Result<Vec<RestaurantDetail>> {
    sqlx::query_as(
        "SELECT r.id, r.name, r.capacity,
                (SELECT count(*) FROM periods p WHERE p.restaurant_id = r.id) AS periods
           FROM restaurants r WHERE r.organisation_id = $1 ORDER BY r.name, r.id",
    )
    .bind(organisation_id)
    .fetch_all(pool)
    .await
}

/// Changes what is given; answers the restaurant as it now is, or none if it is not one of
/// the organisation's.
pub async fn update_restaurant(
    pool: &PgPool,
    organisation_id: Uuid,
    id: Uuid,
    name: Option<&str>,
    capacity: Option<i32>,
    issuer: Option<(&str, &str)>,
) -> sqlx::Result<Option<RestaurantDetail>> {
    sqlx::query_as(
        "UPDATE restaurants r SET name = coalesce($3, r.name), capacity = coalesce($4, r.capacity),
                issuer_name = CASE WHEN $5 THEN $6 ELSE r.issuer_name END,
                issuer_address = CASE WHEN $5 THEN $7 ELSE r.issuer_address END
          WHERE r.id = $1 AND r.organisation_id = $2
         RETURNING r.id, r.name, r.capacity,
                   (SELECT count(*) FROM periods p WHERE p.restaurant_id = r.id) AS periods",
    )
    .bind(id)
    .bind(organisation_id)
    .bind(name)
    .bind(capacity)
    .bind(issuer.is_some())
    .bind(issuer.map(|(name, _)| name))
    .bind(issuer.map(|(_, address)| address))
    .fetch_optional(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChildDetail {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    #[sqlx(try_from = "String")]
    pub meal_option: MealOption,
}

pub async fn children_of(pool: &PgPool, family_id: Uuid) -> sqlx::Result<Vec<ChildDetail>> {
    sqlx::query_as(
        "SELECT id, first_name, last_name, meal_option FROM children
          WHERE family_id = $1 ORDER BY first_name, id",
    )
    .bind(family_id)
    .fetch_all(pool)
    .await
}

pub struct ChildChange<'a> {
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub meal_option: Option<&'a str>,
}

/// Changes what is given of a child of this family; none if the family has no such child.
pub async fn update_child(
    pool: &PgPool,
    family_id: Uuid,
    child_id: Uuid,
    change: ChildChange<'_>,
) -> sqlx::Result<Option<ChildDetail>> {
    sqlx::query_as(
        "UPDATE children SET first_name = coalesce($3, first_name),
                last_name = coalesce($4, last_name), meal_option = coalesce($5, meal_option)
          WHERE id = $2 AND family_id = $1
         RETURNING id, first_name, last_name, meal_option",
    )
    .bind(family_id)
    .bind(child_id)
    .bind(change.first_name)
    .bind(change.last_name)
    .bind(change.meal_option)
    .fetch_optional(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CapacityOverrideRow {
    pub date: NaiveDate,
    pub capacity: i32,
    /// Places held or paid that day (0 when nobody booked yet).
    pub taken: i32,
}

pub async fn capacity_overrides(
    pool: &PgPool,
    period_id: Uuid,
) -> sqlx::Result<Vec<CapacityOverrideRow>> {
    sqlx::query_as(
        "SELECT o.date, o.capacity, coalesce(pl.taken, 0) AS taken
           FROM capacity_overrides o
           JOIN periods p ON p.id = o.period_id
           LEFT JOIN places pl ON pl.restaurant_id = p.restaurant_id
                              AND pl.service = p.service->>'label' AND pl.date = o.date
          WHERE o.period_id = $1 ORDER BY o.date",
    )
    .bind(period_id)
    .fetch_all(pool)
    .await
}
