//! What kitchens read: the meals to cook per restaurant, service day and meal option, booked
//! and held awaiting payment, from the headcount projection.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use uuid::Uuid;

use super::day_range::DayRange;
use crate::app::{AppError, AppResult, Cantine};
use crate::db;
use crate::db::reference::RestaurantRow;
use crate::domain::meal_option::MealOption;
use crate::projections;

/// Meals per option. Counts under a spelling the domain does not know (events older than the
/// options) are kept apart, so that totals and the API still show them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MealCounts {
    known: [i64; MealOption::ALL.len()],
    others: BTreeMap<String, i64>,
}

impl MealCounts {
    fn add(&mut self, spelling: &str, count: i64) {
        match MealOption::parse(spelling) {
            Some(option) => self.known[index(option)] += count,
            None => *self.others.entry(spelling.to_string()).or_default() += count,
        }
    }

    pub fn get(&self, option: MealOption) -> i64 {
        self.known[index(option)]
    }

    pub fn total(&self) -> i64 {
        self.known.iter().sum::<i64>() + self.others.values().sum::<i64>()
    }

    /// Every count by its spelling: each known option (zero included), then the others.
    pub fn by_spelling(&self) -> impl Iterator<Item = (&str, i64)> {
        MealOption::ALL
            .into_iter()
            .map(|o| (o.as_str(), self.get(o)))
            .chain(self.others.iter().map(|(s, n)| (s.as_str(), *n)))
    }
}

fn index(option: MealOption) -> usize {
    MealOption::ALL
        .iter()
        .position(|o| *o == option)
        .expect("every option is in ALL")
}

/// One service day of a restaurant.
#[derive(Debug, Clone)]
pub struct Headcount {
    pub date: NaiveDate,
    pub service: String,
    pub period_id: Uuid,
    pub capacity: i32,
    /// Booked meals (what to cook).
    pub booked: MealCounts,
    /// Places held, awaiting payment.
    pub awaiting_payment: MealCounts,
}

/// The headcount of a restaurant per service day of the range, by date then service. Every
/// service day of its periods is there, counted or not.
pub async fn headcounts(
    cantine: &Cantine,
    restaurant_id: Uuid,
    range: DayRange,
) -> AppResult<Vec<Headcount>> {
    let organisation = cantine.organisation.id;
    if db::reference::restaurant_capacity(&cantine.pool, organisation, restaurant_id)
        .await?
        .is_none()
    {
        return Err(AppError::not_found("restaurant"));
    }
    cantine.fresh(projections::reservations::NAME).await;
    let counted =
        db::headcounts::counted(&cantine.pool, restaurant_id, range.from, range.to).await?;
    let mut by_day: HashMap<(Uuid, NaiveDate, String), Vec<db::headcounts::HeadcountRow>> =
        HashMap::new();
    for row in counted {
        by_day
            .entry((row.period_id, row.date, row.service.clone()))
            .or_default()
            .push(row);
    }
    let mut rows = Vec::new();
    for period in db::reference::periods(&cantine.pool, organisation).await? {
        if period.restaurant_id != restaurant_id {
            continue;
        }
        let service = period.service.0.label.clone();
        for date in period
            .rules
            .0
            .service_days()
            .filter(|d| *d >= range.from && *d <= range.to)
        {
            let mut booked = MealCounts::default();
            let mut awaiting_payment = MealCounts::default();
            for count in by_day
                .remove(&(period.id, date, service.clone()))
                .unwrap_or_default()
            {
                booked.add(&count.meal_option, count.booked.into());
                awaiting_payment.add(&count.meal_option, count.awaiting_payment.into());
            }
            rows.push(Headcount {
                date,
                service: service.clone(),
                period_id: period.id,
                capacity: period.capacity,
                booked,
                awaiting_payment,
            });
        }
    }
    rows.sort_by(|a, b| (a.date, &a.service).cmp(&(b.date, &b.service)));
    Ok(rows)
}

/// The kitchen's sheets of one day: one per restaurant, or only the chosen one.
pub struct DaySheets {
    /// Every restaurant (the page's choice).
    pub restaurants: Vec<RestaurantRow>,
    /// The chosen restaurant, when it is one of them.
    pub chosen: Option<Uuid>,
    pub sheets: Vec<(RestaurantRow, Vec<Headcount>)>,
}

pub async fn day_sheets(
    cantine: &Cantine,
    on: NaiveDate,
    chosen: Option<Uuid>,
) -> AppResult<DaySheets> {
    let restaurants = db::reference::restaurants(&cantine.pool, cantine.organisation.id).await?;
    let chosen = chosen.filter(|id| restaurants.iter().any(|r| r.id == *id));
    let mut sheets = Vec::new();
    for restaurant in restaurants
        .iter()
        .filter(|r| chosen.is_none_or(|id| id == r.id))
    {
        let rows = headcounts(cantine, restaurant.id, DayRange { from: on, to: on }).await?;
        sheets.push((restaurant.clone(), rows));
    }
    Ok(DaySheets {
        restaurants,
        chosen,
        sheets,
    })
}
