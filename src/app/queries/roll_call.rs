//! The kitchen's roll call: for a restaurant and a day, the children to serve per service, with
//! their meal option and whether their place is booked or still held. Read from the same read
//! model as the headcount, so that its names add up to the headcount's numbers.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::app::{AppError, AppResult, Cantine};
use crate::db;
use crate::domain::meal_option::MealOption;
use crate::domain::reservation::DayStatus;
use crate::projections;

#[derive(Debug, Clone)]
pub struct Diner {
    pub child_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    /// As stored; `MealOption::parse` knows every option of today's events.
    pub meal_option: String,
    /// Booked, awaiting payment, or held by a request not yet confirmed.
    pub status: DayStatus,
    /// The reservation's number, as parents read it.
    pub reservation_number: i64,
}

impl Diner {
    /// The option in French, or its stored spelling for one the domain no longer knows.
    pub fn meal_option_french(&self) -> &str {
        MealOption::parse(&self.meal_option).map_or(self.meal_option.as_str(), |o| o.french())
    }
}

#[derive(Debug, Clone)]
pub struct ServiceRoll {
    pub service: String,
    pub diners: Vec<Diner>,
}

impl ServiceRoll {
    pub fn count(&self, status: DayStatus) -> usize {
        self.diners.iter().filter(|d| d.status == status).count()
    }
}

#[derive(Debug, Clone)]
pub struct RollCall {
    pub restaurant_id: Uuid,
    pub restaurant: String,
    pub date: NaiveDate,
    pub services: Vec<ServiceRoll>,
}

/// The roll call of a restaurant of the town on a day; `service` keeps one service only.
pub async fn roll_call(
    cantine: &Cantine,
    restaurant_id: Uuid,
    date: NaiveDate,
    service: Option<&str>,
) -> AppResult<RollCall> {
    let restaurant = db::reference::restaurants(&cantine.pool, cantine.organisation.id)
        .await?
        .into_iter()
        .find(|r| r.id == restaurant_id)
        .ok_or_else(|| AppError::not_found("restaurant"))?;
    cantine.fresh(projections::reservations::NAME).await;
    let mut services: Vec<ServiceRoll> = Vec::new();
    for row in db::roll_call::roll_call(&cantine.pool, restaurant_id, date).await? {
        if service.is_some_and(|s| s != row.service) {
            continue;
        }
        let status = DayStatus::parse(&row.status)
            .ok_or_else(|| AppError::internal(format!("unknown day status {:?}", row.status)))?;
        let diner = Diner {
            child_id: row.child_id,
            first_name: row.child_first_name,
            last_name: row.child_last_name,
            meal_option: row.meal_option,
            status,
            reservation_number: row.number,
        };
        match services.last_mut() {
            Some(roll) if roll.service == row.service => roll.diners.push(diner),
            _ => services.push(ServiceRoll {
                service: row.service,
                diners: vec![diner],
            }),
        }
    }
    Ok(RollCall {
        restaurant_id,
        restaurant: restaurant.name,
        date,
        services,
    })
}
