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
    /// Each group's months (their first day), as the table stores them.
    groups: HashMap<Group, BTreeMap<NaiveDate, MonthChange>>,
}

impl Changes {
    /// The changes of one group of rows.
    pub fn group(
        &mut self,
        restaurant_id: Uuid,
        service: &str,
        meal_option: &str,
        period_id: Uuid,
    ) -> GroupChanges<'_> {
        let months = self
            .groups
            .entry((
                restaurant_id,
                service.to_string(),
                meal_option.to_string(),
                period_id,
            ))
            .or_default();
        GroupChanges {
            months,
            month: None,
            change: ([0; 31], [0; 31]),
        }
    }

    /// Every month row changed, in the table's key order (restaurant, month, service, meal
    /// option, period).
    fn into_rows(self) -> Vec<(Key, MonthChange)> {
        let mut rows: Vec<(Key, MonthChange)> = self
            .groups
            .into_iter()
            .flat_map(|((restaurant, service, meal_option, period), months)| {
                months.into_iter().map(move |(month, change)| {
                    let key = (
                        restaurant,
                        month,
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

/// One group's changes, best fed in date order: a month's days are summed apart and added to
/// its row once a day of another month comes (or this is dropped). Looked up per day, the group's
/// dates were the replay's busiest code (a reservation's ~140 days, twice per status change).
pub struct GroupChanges<'a> {
    months: &'a mut BTreeMap<NaiveDate, MonthChange>,
    /// The month being summed, as a year and month (cheaper to compare than a date), if a day
    /// of it was counted.
    month: Option<(i32, u32)>,
    change: MonthChange,
}

impl GroupChanges<'_> {
    /// Adds to `date`'s counts. Any order is right; date order is the fast one.
    pub fn add(&mut self, date: NaiveDate, booked: i32, awaiting: i32) {
        let month = (date.year(), date.month());
        if self.month != Some(month) {
            self.settle();
            self.month = Some(month);
        }
        let day = date.day0() as usize;
        self.change.0[day] += booked;
        self.change.1[day] += awaiting;
    }

    fn settle(&mut self) {
        let Some((year, month)) = self.month.take() else {
            return;
        };
        let first = NaiveDate::from_ymd_opt(year, month, 1).expect("the first of a month exists");
        let change = std::mem::take(&mut self.change);
        let row = self.months.entry(first).or_default();
        for day in 0..31 {
            row.0[day] += change.0[day];
            row.1[day] += change.1[day];
        }
    }
}

impl Drop for GroupChanges<'_> {
    fn drop(&mut self) {
        self.settle();
    }
}

/// Adds a batch's net changes in one statement: the opening-day rush makes a few hundred rows
/// hot, and row by row each of them was written once per reservation instead of once per
/// batch. A row is a month of days (migration 0037): a whole-year reservation changes about ten.
/// Rows are written in key order, so that two writers of the same table (a projector and a
/// verification) lock them alike. The months' arrays travel flattened, 31 entries per row, and
/// are added by `month_plus`, plain SQL that the planner inlines (migration 0041).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn days_are_summed_into_their_months_rows_in_any_order_and_a_net_zero_keeps_its_row() {
        let restaurant = Uuid::from_u128(2);
        let period = Uuid::from_u128(9);
        let mut changes = Changes::default();
        {
            let mut group = changes.group(restaurant, "lunch", "standard", period);
            group.add(date("2025-09-01"), 1, 0);
            group.add(date("2025-09-30"), 0, 1);
            group.add(date("2025-10-02"), 1, 0);
            // Back to a month already left: added to the same row, not a second one.
            group.add(date("2025-09-01"), 1, 0);
        }
        {
            let mut group = changes.group(restaurant, "lunch", "standard", period);
            group.add(date("2025-11-03"), 0, 1);
            group.add(date("2025-11-03"), 0, -1);
        }
        // Another restaurant sorts before: rows come in the table's key order.
        changes
            .group(Uuid::from_u128(1), "lunch", "standard", period)
            .add(date("2025-12-01"), 0, 1);

        let rows = changes.into_rows();
        let keys: Vec<(Uuid, NaiveDate)> = rows.iter().map(|(k, _)| (k.0, k.1)).collect();
        assert_eq!(
            keys,
            vec![
                (Uuid::from_u128(1), date("2025-12-01")),
                (restaurant, date("2025-09-01")),
                (restaurant, date("2025-10-01")),
                (restaurant, date("2025-11-01")),
            ]
        );
        let september = &rows[1].1;
        assert_eq!((september.0[0], september.1[0]), (2, 0));
        assert_eq!((september.0[29], september.1[29]), (0, 1));
        assert_eq!(
            september.0.iter().sum::<i32>() + september.1.iter().sum::<i32>(),
            3
        );
        assert_eq!(rows[2].1 .0[1], 1);
        let november = &rows[3].1;
        assert!(november.0.iter().chain(&november.1).all(|n| *n == 0));
    }
}
