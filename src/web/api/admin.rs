//! Town staff set up restaurants, periods, families and children.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::account::valid_login;
use super::password::check_new_password;
use crate::app::accounts::credentials::hash_password;
use crate::app::Cantine;
use crate::db;
use crate::domain::account::Role;
use crate::domain::period::{
    BookingCutoff, Closure, PaymentMode, PeriodRules, ServiceHours, Weekday,
};
use crate::domain::tariff::valid_price;
use crate::web::error::{ApiError, ApiResult};
use crate::web::extract::{ApiJson, ApiPath};

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRestaurant {
    pub name: String,
    pub capacity: i32,
}

#[utoipa::path(post, path = "/api/v1/admin/restaurants", tag = "admin", request_body = NewRestaurant,
    responses((status = 201, body = Created), (status = 422, body = crate::web::error::Problem)))]
pub async fn create_restaurant(
    State(state): State<Cantine>,
    ApiJson(body): ApiJson<NewRestaurant>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let name = non_empty("name", &body.name)?;
    valid_capacity(body.capacity)?;
    let id =
        db::reference::insert_restaurant(&state.pool, state.organisation.id, name, body.capacity)
            .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

fn valid_capacity(capacity: i32) -> ApiResult<()> {
    if capacity < 0 {
        return Err(ApiError::rule(
            "invalid_capacity",
            "capacity must be zero or more",
        ));
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestaurantEdit {
    pub name: Option<String>,
    /// The capacity new periods start with; periods already created keep theirs.
    pub capacity: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct RestaurantView {
    pub id: Uuid,
    pub name: String,
    pub capacity: i32,
}

/// Renames a restaurant or changes its capacity. Periods copy the capacity when created, so a
/// change here only reaches the periods created afterwards: a day's places never move under
/// families who already booked.
#[utoipa::path(patch, path = "/api/v1/admin/restaurants/{id}", tag = "admin", request_body = RestaurantEdit,
    params(("id" = Uuid, Path, description = "restaurant id")),
    responses((status = 200, body = RestaurantView), (status = 404, body = crate::web::error::Problem),
              (status = 422, body = crate::web::error::Problem)))]
pub async fn edit_restaurant(
    State(state): State<Cantine>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RestaurantEdit>,
) -> ApiResult<Json<RestaurantView>> {
    // Everything is checked before anything changes: a refused edit changes nothing.
    let name = body
        .name
        .as_deref()
        .map(|n| non_empty("name", n))
        .transpose()?;
    if let Some(capacity) = body.capacity {
        valid_capacity(capacity)?;
    }
    let row = db::reference::update_restaurant(
        &state.pool,
        state.organisation.id,
        id,
        name,
        body.capacity,
    )
    .await?
    .ok_or_else(|| ApiError::not_found("restaurant"))?;
    Ok(Json(RestaurantView {
        id: row.id,
        name: row.name,
        capacity: row.capacity,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPeriod {
    pub restaurant_id: Uuid,
    pub activity: String,
    pub label: String,
    #[schema(value_type = Object)]
    pub service: ServiceHours,
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[schema(value_type = Vec<String>)]
    pub opening_days: Vec<Weekday>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub closures: Vec<Closure>,
    #[schema(value_type = Object)]
    pub booking_cutoff: BookingCutoff,
    /// Until when a booked day can be cancelled (same kinds); the booking cut-off when absent.
    #[schema(value_type = Option<Object>)]
    pub cancellation_cutoff: Option<BookingCutoff>,
    /// When bookings open, Paris time (`2025-07-15T08:00:00`); open at once when absent.
    #[schema(value_type = Option<String>)]
    pub bookings_open_at: Option<chrono::NaiveDateTime>,
    /// Adds France's public holidays between `from` and `to` to the closures.
    #[serde(default)]
    pub public_holidays: bool,
    #[schema(value_type = Object)]
    pub payment: PaymentMode,
    #[schema(value_type = String, example = "4.15")]
    pub unit_price: Decimal,
    pub capacity: Option<i32>,
}

#[utoipa::path(post, path = "/api/v1/admin/periods", tag = "admin", request_body = NewPeriod,
    responses((status = 201, body = Created), (status = 404, body = crate::web::error::Problem), (status = 422, body = crate::web::error::Problem)))]
pub async fn create_period(
    State(state): State<Cantine>,
    ApiJson(body): ApiJson<NewPeriod>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    validate_period(&body)?;
    let restaurant_capacity =
        db::reference::restaurant_capacity(&state.pool, state.organisation.id, body.restaurant_id)
            .await?
            .ok_or_else(|| ApiError::not_found("restaurant"))?;
    let id = db::reference::insert_period(
        &state.pool,
        db::reference::NewPeriod {
            restaurant_id: body.restaurant_id,
            activity: body.activity.trim().to_string(),
            label: body.label.trim().to_string(),
            service: body.service,
            rules: PeriodRules {
                from: body.from,
                to: body.to,
                opening_days: body.opening_days,
                closures: with_public_holidays(
                    body.closures,
                    body.public_holidays,
                    body.from,
                    body.to,
                ),
                booking_cutoff: body.booking_cutoff,
                cancellation_cutoff: body.cancellation_cutoff,
                bookings_open_at: body.bookings_open_at,
            },
            payment: body.payment,
            unit_price: body.unit_price,
            capacity: body.capacity.unwrap_or(restaurant_capacity),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

pub(super) fn with_public_holidays(
    mut closures: Vec<Closure>,
    wanted: bool,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Closure> {
    if wanted {
        closures.extend(
            crate::domain::holidays::public_holidays_between(from, to)
                .into_iter()
                .map(|(day, name)| Closure {
                    from: day,
                    to: day,
                    label: name.to_string(),
                }),
        );
    }
    closures
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::rule("invalid_period", detail)
}

pub fn validate_closures(closures: &[Closure]) -> ApiResult<()> {
    if let Some(closure) = closures.iter().find(|c| c.from > c.to) {
        return Err(invalid(format!(
            "closure {} ends before it starts",
            closure.label
        )));
    }
    Ok(())
}

fn validate_period(body: &NewPeriod) -> ApiResult<()> {
    non_empty("activity", &body.activity)?;
    non_empty("label", &body.label)?;
    non_empty("service.label", &body.service.label)?;
    if body.service.start >= body.service.end {
        return Err(invalid("the service must end after it starts"));
    }
    if body.from > body.to {
        return Err(invalid("`from` must not be after `to`"));
    }
    if body.opening_days.is_empty() {
        return Err(invalid("at least one opening day is needed"));
    }
    validate_closures(&body.closures)?;
    if !valid_price(body.unit_price) {
        return Err(invalid(
            "unit_price must be a non-negative amount with at most two decimals",
        ));
    }
    if body.capacity.is_some_and(|c| c < 0) {
        return Err(invalid("capacity must be zero or more"));
    }
    if let BookingCutoff::DaysBefore { days, .. } = body.booking_cutoff {
        if days > 365 {
            return Err(invalid(
                "a cut-off more than a year before the meal is not a cut-off",
            ));
        }
    }
    if let PaymentMode::Prepaid { hold_minutes } = body.payment {
        if !(1..=7 * 24 * 60).contains(&hold_minutes) {
            return Err(invalid("hold_minutes must be between 1 and 10080"));
        }
    }
    Ok(())
}

fn non_empty<'a>(field: &str, value: &'a str) -> ApiResult<&'a str> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ApiError::rule(
            "empty_field",
            format!("`{field}` must not be empty"),
        ));
    }
    Ok(trimmed)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFamily {
    pub name: String,
    pub login: String,
    pub password: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/admin/families", tag = "admin", request_body = NewFamily,
    responses((status = 201, body = Created), (status = 409, body = crate::web::error::Problem)))]
pub async fn create_family(
    State(state): State<Cantine>,
    ApiJson(body): ApiJson<NewFamily>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let name = non_empty("name", &body.name)?;
    let login = non_empty("login", &body.login)?;
    valid_login(Role::Family, login)?;
    if db::accounts::user_by_login(&state.pool, login)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(
            "login_taken",
            "this login is already used",
        ));
    }
    let hash = match body.password.as_deref() {
        Some(password) => {
            check_new_password(password)?;
            let password = password.to_string();
            Some(
                crate::app::accounts::password_work::run(move || hash_password(&password))
                    .await??,
            )
        }
        None => None,
    };
    let mut tx = state.pool.begin().await?;
    let family_id = Uuid::now_v7();
    // Dated by the service's clock: how long a family has been gone is counted from it.
    let now = state.clock.now();
    sqlx::query(
        "INSERT INTO families (id, organisation_id, name, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(family_id)
    .bind(state.organisation.id)
    .bind(name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO users (id, login, password_hash, role, family_id, created_at)
         VALUES ($1, $2, $3, 'family', $4, $5)
         ON CONFLICT DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(login)
    .bind(hash)
    .bind(family_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(ApiError::conflict(
            "login_taken",
            "this login is already used",
        ));
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(Created { id: family_id })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChild {
    pub first_name: String,
    pub last_name: String,
    /// `standard`, `vegetarian` or `no_pork`
    pub meal_option: Option<String>,
}

pub const MEAL_OPTIONS: [&str; 3] = ["standard", "vegetarian", "no_pork"];

#[utoipa::path(post, path = "/api/v1/admin/families/{id}/children", tag = "admin", request_body = NewChild,
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 201, body = Created), (status = 404, body = crate::web::error::Problem)))]
pub async fn create_child(
    State(state): State<Cantine>,
    ApiPath(family_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewChild>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let first_name = non_empty("first_name", &body.first_name)?;
    let last_name = non_empty("last_name", &body.last_name)?;
    let meal_option = body.meal_option.as_deref().unwrap_or("standard");
    valid_meal_option(meal_option)?;
    if !db::reference::family_exists(&state.pool, state.organisation.id, family_id).await? {
        return Err(ApiError::not_found("family"));
    }
    let id =
        db::reference::insert_child(&state.pool, family_id, first_name, last_name, meal_option)
            .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

fn valid_meal_option(meal_option: &str) -> ApiResult<()> {
    if !MEAL_OPTIONS.contains(&meal_option) {
        return Err(ApiError::rule(
            "invalid_meal_option",
            "meal_option is one of standard, vegetarian, no_pork",
        ));
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChildEdit {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `standard`, `vegetarian` or `no_pork`
    pub meal_option: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ChildView {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub meal_option: String,
}

/// Corrects a child's name or changes its meal option. Days already booked keep the option
/// they were booked with (it is in their events): the kitchen's past sheets do not move.
#[utoipa::path(patch, path = "/api/v1/admin/families/{id}/children/{child_id}", tag = "admin", request_body = ChildEdit,
    params(("id" = Uuid, Path, description = "family id"), ("child_id" = Uuid, Path, description = "child id")),
    responses((status = 200, body = ChildView), (status = 404, body = crate::web::error::Problem),
              (status = 422, body = crate::web::error::Problem)))]
pub async fn edit_child(
    State(state): State<Cantine>,
    ApiPath((family_id, child_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ChildEdit>,
) -> ApiResult<Json<ChildView>> {
    let first_name = body
        .first_name
        .as_deref()
        .map(|n| non_empty("first_name", n))
        .transpose()?;
    let last_name = body
        .last_name
        .as_deref()
        .map(|n| non_empty("last_name", n))
        .transpose()?;
    if let Some(option) = body.meal_option.as_deref() {
        valid_meal_option(option)?;
    }
    if !db::reference::family_exists(&state.pool, state.organisation.id, family_id).await? {
        return Err(ApiError::not_found("family"));
    }
    let child = db::reference::update_child(
        &state.pool,
        family_id,
        child_id,
        db::reference::ChildChange {
            first_name,
            last_name,
            meal_option: body.meal_option.as_deref(),
        },
    )
    .await?
    .ok_or_else(|| ApiError::not_found("child"))?;
    Ok(Json(ChildView {
        id: child.id,
        first_name: child.first_name,
        last_name: child.last_name,
        meal_option: child.meal_option,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceClock {
    pub advance_minutes: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ClockNow {
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Moves the demo clock forward (only when started with `CANTINE_CLOCK`).
#[utoipa::path(post, path = "/api/v1/admin/clock", tag = "admin", request_body = AdvanceClock,
    responses((status = 200, body = ClockNow), (status = 404, body = crate::web::error::Problem)))]
pub async fn advance_clock(
    State(state): State<Cantine>,
    ApiJson(body): ApiJson<AdvanceClock>,
) -> ApiResult<Json<ClockNow>> {
    let clock = state
        .adjustable_clock
        .as_ref()
        .ok_or_else(|| ApiError::not_found("route"))?;
    if !(0..=366 * 24 * 60).contains(&body.advance_minutes) {
        return Err(ApiError::rule(
            "invalid_advance",
            "advance_minutes must be between 0 and one year",
        ));
    }
    clock.advance(chrono::Duration::minutes(body.advance_minutes));
    state.expiry_wake.notify_one();
    Ok(Json(ClockNow {
        now: state.clock.now(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityOverride {
    pub date: NaiveDate,
    pub capacity: i32,
}

#[derive(Serialize, ToSchema)]
pub struct CapacitySet {
    pub date: NaiveDate,
    pub capacity: i32,
    pub taken: i32,
}

/// Sets one day's capacity for the period's service (a trip, a staff shortage). It cannot go
/// below the places already taken.
#[utoipa::path(put, path = "/api/v1/admin/periods/{id}/capacity", tag = "admin", request_body = CapacityOverride,
    params(("id" = Uuid, Path, description = "period id")),
    responses((status = 200, body = CapacitySet), (status = 404, body = crate::web::error::Problem),
              (status = 409, body = crate::web::error::Problem), (status = 422, body = crate::web::error::Problem)))]
pub async fn set_capacity(
    State(state): State<Cantine>,
    ApiPath(period_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CapacityOverride>,
) -> ApiResult<Json<CapacitySet>> {
    if body.capacity < 0 {
        return Err(ApiError::rule(
            "invalid_capacity",
            "capacity must be zero or more",
        ));
    }
    let period = db::reference::period(&state.pool, state.organisation.id, period_id)
        .await?
        .ok_or_else(|| ApiError::not_found("period"))?;
    if period.rules.0.serves_on(body.date).is_err() {
        return Err(ApiError::rule(
            "closed_day",
            "the canteen does not serve on that day in this period",
        ));
    }
    let mut tx = state.pool.begin().await?;
    sqlx::query(
        "INSERT INTO capacity_overrides (period_id, date, capacity) VALUES ($1, $2, $3)
         ON CONFLICT (period_id, date) DO UPDATE SET capacity = EXCLUDED.capacity",
    )
    .bind(period_id)
    .bind(body.date)
    .bind(body.capacity)
    .execute(&mut *tx)
    .await?;
    let service = &period.service.0.label;
    sqlx::query(
        "INSERT INTO places (restaurant_id, service, date, capacity) VALUES ($1, $2, $3, $4)
         ON CONFLICT (restaurant_id, service, date) DO NOTHING",
    )
    .bind(period.restaurant_id)
    .bind(service)
    .bind(body.date)
    .bind(body.capacity)
    .execute(&mut *tx)
    .await?;
    let row: Option<(i32,)> = sqlx::query_as(
        "UPDATE places SET capacity = $4 WHERE restaurant_id = $1 AND service = $2 AND date = $3 AND taken <= $4
         RETURNING taken",
    )
    .bind(period.restaurant_id)
    .bind(service)
    .bind(body.date)
    .bind(body.capacity)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((taken,)) = row else {
        return Err(ApiError::conflict(
            "capacity_below_taken",
            "more places are already taken that day than the new capacity",
        ));
    };
    tx.commit().await?;
    Ok(Json(CapacitySet {
        date: body.date,
        capacity: body.capacity,
        taken,
    }))
}
