//! Restaurants: a name and the capacity new periods start with. Periods copy the capacity when
//! created, so a change here only reaches the periods created afterwards: a day's places never
//! move under families who already booked.

use uuid::Uuid;

use super::{log_change, non_empty, valid_capacity};
use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;

/// A restaurant with its capacity and how many periods it has.
pub type Restaurant = db::reference::RestaurantDetail;

pub async fn create(
    cantine: &Cantine,
    caller: &Caller,
    name: &str,
    capacity: i32,
) -> AppResult<Uuid> {
    let name = non_empty("name", name)?;
    valid_capacity(capacity)?;
    let id =
        db::reference::insert_restaurant(&cantine.pool, cantine.organisation.id, name, capacity)
            .await?;
    log_change(caller, "restaurant created", id);
    Ok(id)
}

/// Renames a restaurant, changes its capacity or the organisation that runs it and issues its
/// invoices (`issuer`: its name and address; what is `None` stays).
pub async fn edit(
    cantine: &Cantine,
    caller: &Caller,
    id: Uuid,
    name: Option<&str>,
    capacity: Option<i32>,
    issuer: Option<(&str, &str)>,
) -> AppResult<Restaurant> {
    // Everything is checked before anything changes: a refused edit changes nothing.
    let name = name.map(|n| non_empty("name", n)).transpose()?;
    let issuer = issuer
        .map(|(name, address)| Ok::<_, AppError>((non_empty("issuer.name", name)?, address.trim())))
        .transpose()?;
    if let Some(capacity) = capacity {
        valid_capacity(capacity)?;
    }
    let restaurant = db::reference::update_restaurant(
        &cantine.pool,
        cantine.organisation.id,
        id,
        name,
        capacity,
        issuer,
    )
    .await?
    .ok_or_else(|| AppError::not_found("restaurant"))?;
    log_change(caller, "restaurant edited", id);
    Ok(restaurant)
}

/// The organisation's restaurants, by name.
pub async fn list(cantine: &Cantine) -> AppResult<Vec<Restaurant>> {
    Ok(db::reference::restaurant_details(&cantine.pool, cantine.organisation.id).await?)
}

pub async fn get(cantine: &Cantine, id: Uuid) -> AppResult<Restaurant> {
    list(cantine)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| AppError::not_found("restaurant"))
}
