//! Daily headcounts per restaurant, service and meal option. They are maintained by the
//! reservations projection, in the same transaction as the reservation days they count, so that
//! the two can never disagree; this module holds the counting.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use sqlx::PgConnection;
use uuid::Uuid;

/// A headcount row: restaurant, month (its first day), service, meal option, period (the
/// table's key).
pub type Key = (Uuid, NaiveDate, String, String, Uuid);

/// A month's changes, entry `i` for day `i + 1`: booked, then awaiting payment.
type MonthChange = ([i32; 31], [i32; 31]);

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

    /// Every month row changed, in the table's key order (restaurant, month, service, meal
    /// option, period).
    fn into_rows(self) -> Vec<(Key, MonthChange)> {
        let mut rows: BTreeMap<Key, MonthChange> = BTreeMap::new();
        for ((restaurant, service, meal_option, period), dates) in self.groups {
            for (date, (booked, awaiting)) in dates {
                let month = date.with_day(1).expect("the first of a month exists");
                let key = (
                    restaurant,
                    month,
                    service.clone(),
                    meal_option.clone(),
                    period,
                );
                let change = rows.entry(key).or_insert(([0; 31], [0; 31]));
                let day = date.day0() as usize;
                change.0[day] += booked;
                change.1[day] += awaiting;
            }
        }
        rows.into_iter().collect()
    }
}

/// Adds a batch's net changes in one statement: the opening-day rush makes a few hundred rows
/// hot, and row by row each of them was written once per reservation instead of once per
/// batch. A row is a month of days (migration 0037): a whole-year reservation changes about ten.
/// Rows are written in key order, so that two writers of the same table (a projector and a
/// verification) lock them alike. The months' arrays travel flattened, 31 entries per row.
pub async fn add(tx: &mut PgConnection, changes: Changes) -> anyhow::Result<()> {
    let changes = changes.into_rows();
    if changes.is_empty() {
        return Ok(());
    }
    let mut restaurant = Vec::with_capacity(changes.len());
    let mut month = Vec::with_capacity(changes.len());
    let mut service = Vec::with_capacity(changes.len());
    let mut meal_option = Vec::with_capacity(changes.len());
    let mut period = Vec::with_capacity(changes.len());
    let mut booked = Vec::with_capacity(changes.len() * 31);
    let mut awaiting = Vec::with_capacity(changes.len() * 31);
    for ((r, m, s, o, p), (b, a)) in changes {
        restaurant.push(r);
        month.push(m);
        service.push(s);
        meal_option.push(o);
        period.push(p);
        booked.extend_from_slice(&b);
        awaiting.extend_from_slice(&a);
    }
    sqlx::query(
        "INSERT INTO headcount_months AS h
                (restaurant_id, month, service, meal_option, period_id, booked, awaiting_payment)
         SELECT r, m, s, o, p, ($6::int[])[(i - 1) * 31 + 1 : i * 31],
                ($7::int[])[(i - 1) * 31 + 1 : i * 31]
           FROM unnest($1::uuid[], $2::date[], $3::text[], $4::text[], $5::uuid[])
                WITH ORDINALITY AS k(r, m, s, o, p, i)
          ORDER BY i
         ON CONFLICT (restaurant_id, month, service, meal_option, period_id) DO UPDATE
            SET booked = month_plus(h.booked, EXCLUDED.booked),
                awaiting_payment = month_plus(h.awaiting_payment, EXCLUDED.awaiting_payment)",
    )
    .bind(&restaurant)
    .bind(&month)
    .bind(&service)
    .bind(&meal_option)
    .bind(&period)
    .bind(&booked)
    .bind(&awaiting)
    .execute(tx)
    .await?;
    Ok(())
}
