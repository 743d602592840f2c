//! The reservations read model: each reservation (family history, cart, expiry queue) and each
//! of its days (child calendar), and the daily headcounts they add up to.
//!
//! A batch is folded in memory and written with a handful of set-based statements: row by row,
//! a whole-year request was ~140 day rows and two headcount passes over them, and every status
//! change re-counted all its days twice, which made this projection the slowest part of the
//! service (it fell seconds behind under the opening-day rush, and every read waited for it).
//! The rows written are the same as applying the events one by one.
//!
//! A day row does not store its status: it follows the reservation's (`day_status` in SQL,
//! [`day_status::of`] here) unless the day was cancelled on its own, so a confirmation, payment
//! or expiry writes one reservation row, not one row per day.

use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{headcounts, Projection, StoredEvent};
use crate::domain::period::PaymentMode;
use crate::domain::reservation::{ReservationEvent, ReservationStatus};

pub struct ReservationsProjection;

pub const NAME: &str = "reservations";

/// Day statuses as the calendar shows them.
mod day_status {
    pub const REQUESTED: &str = "requested";
    pub const AWAITING_PAYMENT: &str = "awaiting_payment";
    pub const BOOKED: &str = "booked";
    pub const CANCELLED: &str = "cancelled";
    pub const EXPIRED: &str = "expired";

    /// A day's status from its reservation's, as the SQL function `day_status` computes it.
    pub fn of(cancelled: bool, reservation_status: &str) -> &'static str {
        match reservation_status {
            _ if cancelled => CANCELLED,
            "requested" => REQUESTED,
            "awaiting_payment" => AWAITING_PAYMENT,
            "confirmed" | "paid" => BOOKED,
            "cancelled" => CANCELLED,
            _ => EXPIRED,
        }
    }
}

#[async_trait]
impl Projection for ReservationsProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["reservation_view", "reservation_days", "headcount_view"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        self.apply_all(tx, std::slice::from_ref(event)).await
    }

    async fn apply_all(&self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
        let mut decoded = Vec::with_capacity(events.len());
        for event in events {
            if event.aggregate_type != "Reservation" {
                continue;
            }
            let id: Uuid = event.aggregate_id.parse()?;
            decoded.push((id, event.decode::<ReservationEvent>()?));
        }
        if decoded.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::load(tx, &decoded).await?;
        for (id, event) in decoded {
            batch.apply(id, event);
        }
        batch.write(tx).await
    }
}

/// A reservation as far as this batch knows it.
struct Reservation {
    /// Present when the reservation was requested in this batch: its row is inserted at the end.
    new: Option<Box<NewRow>>,
    /// False when neither the batch nor the table has the row (events of a reservation whose
    /// request is missing change nothing, as row-by-row updates would not either).
    exists: bool,
    changed: bool,
    status: String,
    total: Decimal,
    pay_before: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    days: BTreeMap<NaiveDate, Day>,
}

struct NewRow {
    number: i64,
    organisation_id: Uuid,
    family_id: Uuid,
    child_id: Uuid,
    child_first_name: String,
    child_last_name: String,
    restaurant_id: Uuid,
    restaurant_name: String,
    period_id: Uuid,
    period_activity: String,
    period_label: String,
    created_at: DateTime<Utc>,
    first_day: Option<NaiveDate>,
    last_day: Option<NaiveDate>,
    payment_mode: &'static str,
}

struct Day {
    restaurant_id: Uuid,
    period_id: Uuid,
    service: String,
    meal_option: String,
    /// Only for days inserted by this batch.
    new: Option<(Uuid, Decimal)>,
    /// Whether the table has the day as cancelled before this batch (None: inserted by this
    /// batch).
    stored: Option<bool>,
    status: &'static str,
}

#[derive(Default)]
struct Batch {
    reservations: HashMap<Uuid, Reservation>,
    /// Net (booked, awaiting_payment) change per headcount row. Every row a day was counted in
    /// is written, even at a net zero, because it exists after a row-by-row application too.
    headcounts: HashMap<headcounts::Key, (i32, i32)>,
}

#[derive(sqlx::FromRow)]
struct ViewRow {
    id: Uuid,
    status: String,
    total: Decimal,
    pay_before: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct DayRow {
    reservation_id: Uuid,
    date: NaiveDate,
    restaurant_id: Uuid,
    period_id: Uuid,
    service: String,
    meal_option: String,
    cancelled: bool,
}

impl Batch {
    /// Reads, in two statements, the reservations the batch changes without requesting them.
    async fn load(
        tx: &mut PgConnection,
        events: &[(Uuid, ReservationEvent)],
    ) -> anyhow::Result<Self> {
        let requested: HashSet<Uuid> = events
            .iter()
            .filter(|(_, e)| matches!(e, ReservationEvent::ReservationRequested(_)))
            .map(|(id, _)| *id)
            .collect();
        let mut earlier: Vec<Uuid> = events
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !requested.contains(id))
            .collect();
        earlier.sort_unstable();
        earlier.dedup();
        let mut batch = Batch::default();
        if earlier.is_empty() {
            return Ok(batch);
        }
        let rows: Vec<ViewRow> = sqlx::query_as(
            "SELECT id, status, total, pay_before, expires_at FROM reservation_view WHERE id = ANY($1)",
        )
        .bind(&earlier)
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            batch.reservations.insert(
                row.id,
                Reservation {
                    new: None,
                    exists: true,
                    changed: false,
                    status: row.status,
                    total: row.total,
                    pay_before: row.pay_before,
                    expires_at: row.expires_at,
                    days: BTreeMap::new(),
                },
            );
        }
        let days: Vec<DayRow> = sqlx::query_as(
            "SELECT reservation_id, date, restaurant_id, period_id, service, meal_option, cancelled
               FROM reservation_days WHERE reservation_id = ANY($1)",
        )
        .bind(&earlier)
        .fetch_all(&mut *tx)
        .await?;
        for day in days {
            let reservation = batch
                .reservations
                .entry(day.reservation_id)
                .or_insert_with(Reservation::missing);
            let status = day_status::of(day.cancelled, &reservation.status);
            reservation.days.insert(
                day.date,
                Day {
                    restaurant_id: day.restaurant_id,
                    period_id: day.period_id,
                    service: day.service,
                    meal_option: day.meal_option,
                    new: None,
                    status,
                    stored: Some(day.cancelled),
                },
            );
        }
        Ok(batch)
    }

    fn apply(&mut self, id: Uuid, event: ReservationEvent) {
        match event {
            ReservationEvent::ReservationRequested(e) => {
                let payment_mode = match e.period.payment {
                    PaymentMode::Prepaid { .. } => "prepaid",
                    PaymentMode::Postpaid => "postpaid",
                };
                let days = e
                    .days
                    .iter()
                    .map(|d| {
                        (
                            d.date,
                            Day {
                                restaurant_id: e.restaurant.id,
                                period_id: e.period.id,
                                service: d.service.clone(),
                                meal_option: d.meal_option.clone(),
                                new: Some((e.child.id, d.unit_price)),
                                stored: None,
                                status: day_status::REQUESTED,
                            },
                        )
                    })
                    .collect();
                let reservation = Reservation {
                    new: Some(Box::new(NewRow {
                        number: e.number as i64,
                        organisation_id: e.organisation_id,
                        family_id: e.family_id,
                        child_id: e.child.id,
                        child_first_name: e.child.first_name,
                        child_last_name: e.child.last_name,
                        restaurant_id: e.restaurant.id,
                        restaurant_name: e.restaurant.name,
                        period_id: e.period.id,
                        period_activity: e.period.activity,
                        period_label: e.period.label,
                        created_at: e.requested_at,
                        first_day: e.days.iter().map(|d| d.date).min(),
                        last_day: e.days.iter().map(|d| d.date).max(),
                        payment_mode,
                    })),
                    exists: true,
                    changed: true,
                    status: ReservationStatus::Requested.as_str().to_string(),
                    total: e.total,
                    pay_before: None,
                    expires_at: e.confirm_before,
                    days,
                };
                self.reservations.insert(id, reservation);
                self.adjust(id, None, 1);
            }
            ReservationEvent::ReservationConfirmed(e) => {
                let (status, day) = if e.pay_before.is_some() {
                    (
                        ReservationStatus::AwaitingPayment,
                        day_status::AWAITING_PAYMENT,
                    )
                } else {
                    (ReservationStatus::Confirmed, day_status::BOOKED)
                };
                self.set_status(id, status, day, e.pay_before);
            }
            ReservationEvent::ReservationPaid(_) | ReservationEvent::ReservationReinstated(_) => {
                self.set_status(id, ReservationStatus::Paid, day_status::BOOKED, None);
            }
            ReservationEvent::ReservationExpired(_) => {
                self.set_status(id, ReservationStatus::Expired, day_status::EXPIRED, None);
            }
            ReservationEvent::DaysCancelled(e) => {
                let dates: HashSet<NaiveDate> = e.days.iter().copied().collect();
                self.adjust(id, Some(&dates), -1);
                let Some(reservation) = self.reservations.get_mut(&id) else {
                    return;
                };
                for (date, day) in reservation.days.iter_mut() {
                    if dates.contains(date) {
                        day.status = day_status::CANCELLED;
                    }
                }
                if reservation.exists {
                    reservation.changed = true;
                    reservation.total = e.remaining_total;
                    if e.reservation_cancelled {
                        reservation.status = ReservationStatus::Cancelled.as_str().to_string();
                        reservation.pay_before = None;
                        reservation.expires_at = None;
                    }
                }
            }
        }
    }

    /// Moves the reservation and its still-active days to a new status. Cancelled days stay so.
    fn set_status(
        &mut self,
        id: Uuid,
        status: ReservationStatus,
        day: &'static str,
        pay_before: Option<DateTime<Utc>>,
    ) {
        self.adjust(id, None, -1);
        let Some(reservation) = self.reservations.get_mut(&id) else {
            return;
        };
        if reservation.exists {
            reservation.changed = true;
            reservation.status = status.as_str().to_string();
            reservation.pay_before = pay_before.or(reservation.pay_before);
            // Only requests and holds awaiting payment can expire; `pay_before` stays for the
            // record.
            reservation.expires_at = match status {
                ReservationStatus::Requested | ReservationStatus::AwaitingPayment => pay_before,
                _ => None,
            };
        }
        for d in reservation.days.values_mut() {
            if d.status != day_status::CANCELLED {
                d.status = day;
            }
        }
        self.adjust(id, None, 1);
    }

    /// Removes (`sign` = -1) or adds (+1) the reservation's days (all, or `dates`) to the
    /// headcounts, according to each day's current status.
    fn adjust(&mut self, id: Uuid, dates: Option<&HashSet<NaiveDate>>, sign: i32) {
        let Some(reservation) = self.reservations.get(&id) else {
            return;
        };
        for (date, day) in &reservation.days {
            if dates.is_some_and(|dates| !dates.contains(date)) {
                continue;
            }
            let (booked, awaiting) = match headcounts::counted(day.status) {
                Some(headcounts::Counted::Booked) => (sign, 0),
                Some(headcounts::Counted::Awaiting) => (0, sign),
                None => continue,
            };
            let key = (
                day.restaurant_id,
                *date,
                day.service.clone(),
                day.meal_option.clone(),
                day.period_id,
            );
            let entry = self.headcounts.entry(key).or_default();
            entry.0 += booked;
            entry.1 += awaiting;
        }
    }

    async fn write(self, tx: &mut PgConnection) -> anyhow::Result<()> {
        let mut inserted = NewRows::default();
        let mut updated = UpdatedRows::default();
        let mut new_days = NewDays::default();
        let mut cancelled_days = CancelledDays::default();
        for (id, r) in self.reservations {
            for (date, day) in r.days {
                match (&day.new, &day.stored) {
                    (Some((child_id, unit_price)), _) => {
                        new_days.reservation_id.push(id);
                        new_days.date.push(date);
                        new_days.child_id.push(*child_id);
                        new_days.restaurant_id.push(day.restaurant_id);
                        new_days.period_id.push(day.period_id);
                        new_days.service.push(day.service);
                        new_days.meal_option.push(day.meal_option);
                        new_days.unit_price.push(*unit_price);
                        new_days.cancelled.push(day.status == day_status::CANCELLED);
                    }
                    (None, Some(false)) if day.status == day_status::CANCELLED => {
                        cancelled_days.reservation_id.push(id);
                        cancelled_days.date.push(date);
                    }
                    _ => {}
                }
            }
            match r.new {
                Some(row) => {
                    inserted.id.push(id);
                    inserted.number.push(row.number);
                    inserted.organisation_id.push(row.organisation_id);
                    inserted.family_id.push(row.family_id);
                    inserted.child_id.push(row.child_id);
                    inserted.child_first_name.push(row.child_first_name);
                    inserted.child_last_name.push(row.child_last_name);
                    inserted.restaurant_id.push(row.restaurant_id);
                    inserted.restaurant_name.push(row.restaurant_name);
                    inserted.period_id.push(row.period_id);
                    inserted.period_activity.push(row.period_activity);
                    inserted.period_label.push(row.period_label);
                    inserted.created_at.push(row.created_at);
                    inserted.first_day.push(row.first_day);
                    inserted.last_day.push(row.last_day);
                    inserted.status.push(r.status);
                    inserted.total.push(r.total);
                    inserted.payment_mode.push(row.payment_mode);
                    inserted.pay_before.push(r.pay_before);
                    inserted.expires_at.push(r.expires_at);
                }
                None if r.changed => {
                    updated.id.push(id);
                    updated.status.push(r.status);
                    updated.total.push(r.total);
                    updated.pay_before.push(r.pay_before);
                    updated.expires_at.push(r.expires_at);
                }
                None => {}
            }
        }
        if !inserted.id.is_empty() {
            sqlx::query(
                "INSERT INTO reservation_view (id, number, organisation_id, family_id, child_id,
                    child_first_name, child_last_name, restaurant_id, restaurant_name, period_id,
                    period_activity, period_label, created_at, first_day, last_day, status, total,
                    payment_mode, pay_before, expires_at)
                 SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::uuid[], $5::uuid[],
                    $6::text[], $7::text[], $8::uuid[], $9::text[], $10::uuid[], $11::text[],
                    $12::text[], $13::timestamptz[], $14::date[], $15::date[], $16::text[],
                    $17::numeric[], $18::text[], $19::timestamptz[], $20::timestamptz[])",
            )
            .bind(&inserted.id)
            .bind(&inserted.number)
            .bind(&inserted.organisation_id)
            .bind(&inserted.family_id)
            .bind(&inserted.child_id)
            .bind(&inserted.child_first_name)
            .bind(&inserted.child_last_name)
            .bind(&inserted.restaurant_id)
            .bind(&inserted.restaurant_name)
            .bind(&inserted.period_id)
            .bind(&inserted.period_activity)
            .bind(&inserted.period_label)
            .bind(&inserted.created_at)
            .bind(&inserted.first_day)
            .bind(&inserted.last_day)
            .bind(&inserted.status)
            .bind(&inserted.total)
            .bind(&inserted.payment_mode)
            .bind(&inserted.pay_before)
            .bind(&inserted.expires_at)
            .execute(&mut *tx)
            .await?;
        }
        if !updated.id.is_empty() {
            sqlx::query(
                "UPDATE reservation_view v
                    SET status = u.status, total = u.total, pay_before = u.pay_before,
                        expires_at = u.expires_at
                   FROM unnest($1::uuid[], $2::text[], $3::numeric[], $4::timestamptz[],
                               $5::timestamptz[]) AS u(id, status, total, pay_before, expires_at)
                  WHERE v.id = u.id",
            )
            .bind(&updated.id)
            .bind(&updated.status)
            .bind(&updated.total)
            .bind(&updated.pay_before)
            .bind(&updated.expires_at)
            .execute(&mut *tx)
            .await?;
        }
        if !new_days.date.is_empty() {
            sqlx::query(
                "INSERT INTO reservation_days (reservation_id, date, child_id, restaurant_id,
                    period_id, service, meal_option, unit_price, cancelled)
                 SELECT * FROM unnest($1::uuid[], $2::date[], $3::uuid[], $4::uuid[], $5::uuid[],
                    $6::text[], $7::text[], $8::numeric[], $9::boolean[])",
            )
            .bind(&new_days.reservation_id)
            .bind(&new_days.date)
            .bind(&new_days.child_id)
            .bind(&new_days.restaurant_id)
            .bind(&new_days.period_id)
            .bind(&new_days.service)
            .bind(&new_days.meal_option)
            .bind(&new_days.unit_price)
            .bind(&new_days.cancelled)
            .execute(&mut *tx)
            .await?;
        }
        if !cancelled_days.date.is_empty() {
            sqlx::query(
                "UPDATE reservation_days d SET cancelled = true
                   FROM unnest($1::uuid[], $2::date[]) AS u(reservation_id, date)
                  WHERE d.reservation_id = u.reservation_id AND d.date = u.date",
            )
            .bind(&cancelled_days.reservation_id)
            .bind(&cancelled_days.date)
            .execute(&mut *tx)
            .await?;
        }
        headcounts::add(tx, self.headcounts).await
    }
}

impl Reservation {
    fn missing() -> Self {
        Reservation {
            new: None,
            exists: false,
            changed: false,
            status: String::new(),
            total: Decimal::ZERO,
            pay_before: None,
            expires_at: None,
            days: BTreeMap::new(),
        }
    }
}

#[derive(Default)]
struct NewRows {
    id: Vec<Uuid>,
    number: Vec<i64>,
    organisation_id: Vec<Uuid>,
    family_id: Vec<Uuid>,
    child_id: Vec<Uuid>,
    child_first_name: Vec<String>,
    child_last_name: Vec<String>,
    restaurant_id: Vec<Uuid>,
    restaurant_name: Vec<String>,
    period_id: Vec<Uuid>,
    period_activity: Vec<String>,
    period_label: Vec<String>,
    created_at: Vec<DateTime<Utc>>,
    first_day: Vec<Option<NaiveDate>>,
    last_day: Vec<Option<NaiveDate>>,
    status: Vec<String>,
    total: Vec<Decimal>,
    payment_mode: Vec<&'static str>,
    pay_before: Vec<Option<DateTime<Utc>>>,
    expires_at: Vec<Option<DateTime<Utc>>>,
}

#[derive(Default)]
struct UpdatedRows {
    id: Vec<Uuid>,
    status: Vec<String>,
    total: Vec<Decimal>,
    pay_before: Vec<Option<DateTime<Utc>>>,
    expires_at: Vec<Option<DateTime<Utc>>>,
}

#[derive(Default)]
struct NewDays {
    reservation_id: Vec<Uuid>,
    date: Vec<NaiveDate>,
    child_id: Vec<Uuid>,
    restaurant_id: Vec<Uuid>,
    period_id: Vec<Uuid>,
    service: Vec<String>,
    meal_option: Vec<String>,
    unit_price: Vec<Decimal>,
    cancelled: Vec<bool>,
}

#[derive(Default)]
struct CancelledDays {
    reservation_id: Vec<Uuid>,
    date: Vec<NaiveDate>,
}
