//! Town staff set up restaurants, periods, families and children: the JSON shapes, and the
//! handlers that call `app::administration`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::administration::{
    capacities, children, demo_clock, families, periods, restaurants,
};
use crate::app::{Caller, Cantine};
use crate::domain::period::{
    BookingCutoff, Closure, PaymentMode, PeriodRules, ServiceHours, Weekday,
};
use crate::web::error::ApiResult;
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
    caller: Caller,
    ApiJson(body): ApiJson<NewRestaurant>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = restaurants::create(&state, &caller, &body.name, body.capacity).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestaurantEdit {
    pub name: Option<String>,
    /// The capacity new periods start with; periods already created keep theirs.
    pub capacity: Option<i32>,
    /// The organisation that runs the restaurant, named on its invoices from then on (the
    /// town when never set).
    pub issuer: Option<IssuerEdit>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerEdit {
    pub name: String,
    #[serde(default)]
    pub address: String,
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
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RestaurantEdit>,
) -> ApiResult<Json<RestaurantView>> {
    let issuer = body
        .issuer
        .as_ref()
        .map(|i| (i.name.as_str(), i.address.as_str()));
    let row = restaurants::edit(
        &state,
        &caller,
        id,
        body.name.as_deref(),
        body.capacity,
        issuer,
    )
    .await?;
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
    caller: Caller,
    ApiJson(body): ApiJson<NewPeriod>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let new = periods::NewPeriod {
        restaurant_id: body.restaurant_id,
        activity: body.activity,
        label: body.label,
        service: body.service,
        rules: PeriodRules {
            from: body.from,
            to: body.to,
            opening_days: body.opening_days,
            closures: body.closures,
            booking_cutoff: body.booking_cutoff,
            cancellation_cutoff: body.cancellation_cutoff,
            bookings_open_at: body.bookings_open_at,
        },
        public_holidays: body.public_holidays,
        payment: body.payment,
        unit_price: body.unit_price,
        capacity: body.capacity,
    };
    let id = periods::create(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
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
    caller: Caller,
    ApiJson(body): ApiJson<NewFamily>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let new = families::NewFamily {
        name: &body.name,
        login: &body.login,
        password: body.password.as_deref(),
    };
    let id = families::create(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChild {
    pub first_name: String,
    pub last_name: String,
    /// `standard`, `vegetarian` or `no_pork`
    pub meal_option: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/admin/families/{id}/children", tag = "admin", request_body = NewChild,
    params(("id" = Uuid, Path, description = "family id")),
    responses((status = 201, body = Created), (status = 404, body = crate::web::error::Problem)))]
pub async fn create_child(
    State(state): State<Cantine>,
    caller: Caller,
    ApiPath(family_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<NewChild>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let child = children::NewChild::parse(
        &body.first_name,
        &body.last_name,
        body.meal_option.as_deref(),
    )?;
    let id = children::create(&state, &caller, family_id, child).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
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
    caller: Caller,
    ApiPath((family_id, child_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ChildEdit>,
) -> ApiResult<Json<ChildView>> {
    let change = children::ChildChange::parse(
        body.first_name.as_deref(),
        body.last_name.as_deref(),
        body.meal_option.as_deref(),
    )?;
    let child = children::edit(&state, &caller, (family_id, child_id), change).await?;
    Ok(Json(ChildView {
        id: child.id,
        first_name: child.first_name,
        last_name: child.last_name,
        meal_option: child.meal_option.as_str().to_string(),
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
    let now = demo_clock::advance(&state, body.advance_minutes)?;
    Ok(Json(ClockNow { now }))
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
    caller: Caller,
    ApiPath(period_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CapacityOverride>,
) -> ApiResult<Json<CapacitySet>> {
    let set = capacities::set(&state, &caller, period_id, body.date, body.capacity).await?;
    Ok(Json(CapacitySet {
        date: set.date,
        capacity: set.capacity,
        taken: set.taken,
    }))
}
