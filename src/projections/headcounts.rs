//! Daily headcounts per restaurant, service and meal option. They are maintained by the
//! reservations projection, in the same transaction as the reservation days they count, so that
//! the two can never disagree; this module holds the counting.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

/// A headcount row: restaurant, date, service, meal option, period (the table's key).
pub type Key = (Uuid, NaiveDate, String, String, Uuid);

/// Which headcount column a day in this status counts in.
pub enum Counted {
    Booked,
    /// Awaiting payment; `requested` days are held too.
    Awaiting,
}

pub fn counted(status: &str) -> Option<Counted> {
    match status {
        "booked" => Some(Counted::Booked),
        "awaiting_payment" | "requested" => Some(Counted::Awaiting),
        _ => None,
    }
}

/// The rows of one restaurant, service, meal option and period: a reservation's days all fall
/// in one, so it is looked up once per reservation instead of once per day.
type Group = (Uuid, String, String, Uuid);

/// A batch's net (booked, awaiting_payment) change per headcount row. Every row a day was
/// counted in is kept, even at a net zero, because it exists after a row-by-row application too.
#[derive(Default)]
pub struct Changes {
    groups: HashMap<Group, BTreeMap<NaiveDate, (i32, i32)>>,
}

impl Changes {
    /// The changes by date of one group of rows.
    pub fn group(
        &mut self,
        restaurant_id: Uuid,
        service: &str,
        meal_option: &str,
        period_id: Uuid,
    ) -> &mut BTreeMap<NaiveDate, (i32, i32)> {
        self.groups
            .entry((
                restaurant_id,
                service.to_string(),
                meal_option.to_string(),
                period_id,
            ))
            .or_default()
    }

    /// Every row changed, in the table's key order (restaurant, date, service, meal option,
    /// period).
    fn into_rows(self) -> Vec<(Key, (i32, i32))> {
        let mut rows: Vec<(Key, (i32, i32))> = self
            .groups
            .into_iter()
            .flat_map(|((restaurant, service, meal_option, period), dates)| {
                dates.into_iter().map(move |(date, change)| {
                    let key = (
                        restaurant,
                        date,
                        service.clone(),
                        meal_option.clone(),
                        period,
                    );
                    (key, change)
                })
            })
            .collect();
        rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        rows
    }
}

/// Adds a batch's net changes in one statement: the opening-day rush makes a few hundred rows
/// hot, and row by row each of them was written once per reservation instead of once per
/// batch. Rows are written in key order, so that two writers of the same table (a projector
/// and a verification) lock them alike.
pub async fn add(tx: &mut PgConnection, changes: Changes) -> anyhow::Result<()> {
    let changes = changes.into_rows();
    if changes.is_empty() {
        return Ok(());
    }
    let mut restaurant = Vec::with_capacity(changes.len());
    let mut date = Vec::with_capacity(changes.len());
    let mut service = Vec::with_capacity(changes.len());
    let mut meal_option = Vec::with_capacity(changes.len());
    let mut period = Vec::with_capacity(changes.len());
    let mut booked = Vec::with_capacity(changes.len());
    let mut awaiting = Vec::with_capacity(changes.len());
    for ((r, d, s, m, p), (b, a)) in changes {
        restaurant.push(r);
        date.push(d);
        service.push(s);
        meal_option.push(m);
        period.push(p);
        booked.push(b);
        awaiting.push(a);
    }
    sqlx::query(
        "INSERT INTO headcount_view AS h (restaurant_id, date, service, meal_option, period_id, booked, awaiting_payment)
         SELECT * FROM unnest($1::uuid[], $2::date[], $3::text[], $4::text[], $5::uuid[], $6::int[], $7::int[])
         ON CONFLICT (restaurant_id, date, service, meal_option, period_id) DO UPDATE
            SET booked = h.booked + EXCLUDED.booked,
                awaiting_payment = h.awaiting_payment + EXCLUDED.awaiting_payment",
    )
    .bind(&restaurant)
    .bind(&date)
    .bind(&service)
    .bind(&meal_option)
    .bind(&period)
    .bind(&booked)
    .bind(&awaiting)
    .execute(tx)
    .await?;
    Ok(())
}
