//! The reservations read model: each reservation (family history, cart, expiry queue) and each
//! of its days (child calendar), and the daily headcounts they add up to.
//!
//! A batch is folded in memory and written with a handful of set-based statements: row by row,
//! a whole-year request was ~140 day rows and two headcount passes over them, and every status
//! change re-counted all its days twice, which made this projection the slowest part of the
//! service (it fell seconds behind under the opening-day rush, and every read waited for it).
//! The rows written are the same as applying the events one by one.
//!
//! A reservation's days are arrays in its row (dates, dates cancelled on their own, and a price a
//! day only when the days do not share one: migration 0040), and a day's status is the
//! reservation's (`day_status` in SQL, [`day_status::of`] here) unless it was cancelled: one row
//! per request and per change, where a row per day made a whole-year request ~140 rows,
//! rewritten at each confirmation, payment and expiry.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{headcounts, HeldWrites, Projection, Replay, StoredEvent};
use crate::domain::period::PaymentMode;
use crate::domain::reservation::{ReservationEvent, ReservationStatus};

pub struct ReservationsProjection;

pub const NAME: &str = "reservations";

/// Day statuses as the calendar shows them, spelled by the domain's [`DayStatus`]; the replay
/// keeps them as `&'static str` to write them straight into the rows.
pub mod day_status {
    use crate::domain::reservation::{DayStatus, ReservationStatus};

    pub const REQUESTED: &str = DayStatus::Requested.as_str();
    pub const AWAITING_PAYMENT: &str = DayStatus::AwaitingPayment.as_str();
    pub const BOOKED: &str = DayStatus::Booked.as_str();
    pub const CANCELLED: &str = DayStatus::Cancelled.as_str();
    pub const EXPIRED: &str = DayStatus::Expired.as_str();

    /// [`DayStatus::of`] for a reservation status read from a row.
    pub fn of(cancelled: bool, reservation_status: &str) -> &'static str {
        match ReservationStatus::parse(reservation_status) {
            Some(status) => DayStatus::of(cancelled, status).as_str(),
            None if cancelled => CANCELLED,
            None => EXPIRED,
        }
    }
}

#[async_trait]
impl Projection for ReservationsProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["reservation_view", "headcount_months"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        self.apply_all(tx, std::slice::from_ref(event)).await
    }

    async fn apply_all(&self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
        let mut replay = self.replay_holding(usize::MAX);
        replay.feed(tx, events).await?;
        replay.flush(tx).await
    }

    fn replay(&self) -> Box<dyn Replay + '_> {
        self.replay_holding(REPLAY_HELD)
    }
}

impl ReservationsProjection {
    /// A replay that writes what it holds once it holds `reservations` of them.
    pub fn replay_holding(&self, reservations: usize) -> Box<dyn Replay> {
        Box::new(ReservationsReplay {
            batch: Batch::default(),
            hold: reservations,
            handed_over: HashMap::new(),
        })
    }
}

/// How many reservations a replay holds in memory before it writes them (~10 KB each).
const REPLAY_HELD: usize = 1_000;

/// Batches folded in memory, written when flushed: live, every batch; in a replay, every few
/// thousand reservations.
struct ReservationsReplay {
    batch: Batch,
    /// How many reservations it holds before it says it is full.
    hold: usize,
    /// The reservations of the last batch handed over, as it leaves them: its rows may still
    /// be being written, and the next batches read them from here.
    handed_over: HashMap<Uuid, Reservation>,
}

#[async_trait]
impl Replay for ReservationsReplay {
    async fn feed(&mut self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
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
        self.batch
            .load_missing(tx, &decoded, &mut self.handed_over)
            .await?;
        for (id, event) in decoded {
            self.batch.apply(id, event);
        }
        Ok(())
    }

    fn full(&self) -> bool {
        self.batch.reservations.len() >= self.hold
    }

    async fn flush(&mut self, tx: &mut PgConnection) -> anyhow::Result<()> {
        // The live projector flushes every batch: what the rows become is not kept.
        let (rows, _) = self.batch.take_rows(false);
        let writes = Writes {
            rows,
            headcounts: std::mem::take(&mut self.batch.headcounts),
        };
        writes.execute(tx).await
    }

    fn feeds_only_read(&self) -> bool {
        true
    }

    /// Hands over the reservations' rows, and keeps the headcounts for the last flush: every
    /// hand-over of a replay changes the same few hundred month rows, and upserting them each
    /// time was ~10 ms of the writer's time per 1,000 reservations (20 times on an opening day
    /// of 10,000 families) for rows that only the replay's end needs.
    fn hand_over(&mut self) -> Option<Box<dyn HeldWrites>> {
        let (rows, reservations) = self.batch.take_rows(true);
        self.handed_over = reservations;
        Some(Box::new(Writes {
            rows,
            headcounts: headcounts::Changes::default(),
        }))
    }
}

/// A reservation as far as this batch knows it.
struct Reservation {
    /// Present when the reservation was requested in this batch: its row is inserted at the end.
    new: Option<Box<NewRow>>,
    changed: bool,
    status: String,
    total: Decimal,
    pay_before: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    restaurant_id: Uuid,
    period_id: Uuid,
    service: String,
    meal_option: String,
    /// Each day's status, as the calendar shows it, in date order (see [`in_date_order`]).
    days: Vec<(NaiveDate, &'static str)>,
}

struct NewRow {
    number: i64,
    organisation_id: Uuid,
    family_id: Uuid,
    child_id: Uuid,
    child_first_name: String,
    child_last_name: String,
    restaurant_name: String,
    period_activity: String,
    period_label: String,
    created_at: DateTime<Utc>,
    payment_mode: &'static str,
    /// In date order, as `days`.
    unit_prices: Vec<Decimal>,
}

#[derive(Default)]
struct Batch {
    reservations: HashMap<Uuid, Reservation>,
    headcounts: headcounts::Changes,
}

#[derive(sqlx::FromRow)]
struct ViewRow {
    id: Uuid,
    status: String,
    total: Decimal,
    pay_before: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    restaurant_id: Uuid,
    period_id: Uuid,
    service: String,
    meal_option: String,
    dates: Vec<NaiveDate>,
    cancelled_dates: Vec<NaiveDate>,
}

impl Batch {
    /// Reads, in one statement, the reservations the events change that were requested
    /// neither in them nor in what the batch holds already.
    async fn load_missing(
        &mut self,
        tx: &mut PgConnection,
        events: &[(Uuid, ReservationEvent)],
        handed_over: &mut HashMap<Uuid, Reservation>,
    ) -> anyhow::Result<()> {
        let requested: HashSet<Uuid> = events
            .iter()
            .filter(|(_, e)| matches!(e, ReservationEvent::ReservationRequested(_)))
            .map(|(id, _)| *id)
            .collect();
        let mut earlier: Vec<Uuid> = events
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !requested.contains(id) && !self.reservations.contains_key(id))
            .collect();
        earlier.sort_unstable();
        earlier.dedup();
        earlier.retain(|id| match handed_over.remove(id) {
            Some(reservation) => {
                self.reservations.insert(*id, reservation);
                false
            }
            None => true,
        });
        if earlier.is_empty() {
            return Ok(());
        }
        let rows: Vec<ViewRow> = sqlx::query_as(
            "SELECT id, status, total, pay_before, expires_at, restaurant_id, period_id, service,
                    meal_option, dates, cancelled_dates
               FROM reservation_view WHERE id = ANY($1)",
        )
        .bind(&earlier)
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let cancelled: HashSet<NaiveDate> = row.cancelled_dates.into_iter().collect();
            let mut days = row
                .dates
                .into_iter()
                .map(|date| (date, day_status::of(cancelled.contains(&date), &row.status)))
                .collect();
            in_date_order(&mut days);
            self.reservations.insert(
                row.id,
                Reservation {
                    new: None,
                    changed: false,
                    status: row.status,
                    total: row.total,
                    pay_before: row.pay_before,
                    expires_at: row.expires_at,
                    restaurant_id: row.restaurant_id,
                    period_id: row.period_id,
                    service: row.service,
                    meal_option: row.meal_option,
                    days,
                },
            );
        }
        Ok(())
    }

    fn apply(&mut self, id: Uuid, event: ReservationEvent) {
        match event {
            ReservationEvent::ReservationRequested(e) => {
                let payment_mode = match e.period.payment {
                    PaymentMode::Prepaid { .. } => "prepaid",
                    PaymentMode::Postpaid => "postpaid",
                };
                // The aggregate gives every day of a request the period's service and the child's
                // meal option of that moment, so they are kept once per reservation.
                let (service, meal_option) = match e.days.first() {
                    Some(day) => (day.service.to_string(), day.meal_option.to_string()),
                    None => (e.period.service.label.clone(), e.child.meal_option.clone()),
                };
                let mut prices: Vec<(NaiveDate, Decimal)> =
                    e.days.iter().map(|d| (d.date, d.unit_price)).collect();
                in_date_order(&mut prices);
                let days = prices
                    .iter()
                    .map(|(date, _)| (*date, day_status::REQUESTED))
                    .collect();
                let reservation = Reservation {
                    new: Some(Box::new(NewRow {
                        number: e.number as i64,
                        organisation_id: e.organisation_id,
                        family_id: e.family_id,
                        child_id: e.child.id,
                        child_first_name: e.child.first_name,
                        child_last_name: e.child.last_name,
                        restaurant_name: e.restaurant.name,
                        period_activity: e.period.activity,
                        period_label: e.period.label,
                        created_at: e.requested_at,
                        payment_mode,
                        unit_prices: prices.into_iter().map(|(_, price)| price).collect(),
                    })),
                    changed: true,
                    status: ReservationStatus::Requested.as_str().to_string(),
                    total: e.total,
                    pay_before: None,
                    expires_at: e.confirm_before,
                    restaurant_id: e.restaurant.id,
                    period_id: e.period.id,
                    service,
                    meal_option,
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
                for (date, status) in reservation.days.iter_mut() {
                    if dates.contains(date) {
                        *status = day_status::CANCELLED;
                    }
                }
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
        reservation.changed = true;
        reservation.status = status.as_str().to_string();
        reservation.pay_before = pay_before.or(reservation.pay_before);
        // Only requests and holds awaiting payment can expire; `pay_before` stays for the
        // record.
        reservation.expires_at = match status {
            ReservationStatus::Requested | ReservationStatus::AwaitingPayment => pay_before,
            _ => None,
        };
        for (_, d) in reservation.days.iter_mut() {
            if *d != day_status::CANCELLED {
                *d = day;
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
        let mut group = self.headcounts.group(
            reservation.restaurant_id,
            &reservation.service,
            &reservation.meal_option,
            reservation.period_id,
        );
        for (date, status) in &reservation.days {
            if dates.is_some_and(|dates| !dates.contains(date)) {
                continue;
            }
            let (booked, awaiting) = match headcounts::counted(status) {
                Some(headcounts::Counted::Booked) => (sign, 0),
                Some(headcounts::Counted::Awaiting) => (0, sign),
                None => continue,
            };
            group.add(*date, booked, awaiting);
        }
    }

    /// Takes the reservations' rows to write, and (if `keep`) the reservations as the rows will
    /// be once written; the headcounts stay.
    fn take_rows(&mut self, keep: bool) -> (Rows, HashMap<Uuid, Reservation>) {
        let reservations = std::mem::take(&mut self.reservations);
        let mut inserted = NewRows::default();
        let mut updated = UpdatedRows::default();
        let mut written = HashMap::with_capacity(if keep { reservations.len() } else { 0 });
        for (id, mut r) in reservations {
            let cancelled = r
                .days
                .iter()
                .filter(|(_, status)| *status == day_status::CANCELLED)
                .map(|(date, _)| *date);
            match r.new.take() {
                Some(row) => {
                    inserted.id.push(id);
                    inserted.number.push(row.number);
                    inserted.organisation_id.push(row.organisation_id);
                    inserted.family_id.push(row.family_id);
                    inserted.child_id.push(row.child_id);
                    inserted.child_first_name.push(row.child_first_name);
                    inserted.child_last_name.push(row.child_last_name);
                    inserted.restaurant_id.push(r.restaurant_id);
                    inserted.restaurant_name.push(row.restaurant_name);
                    inserted.period_id.push(r.period_id);
                    inserted.period_activity.push(row.period_activity);
                    inserted.period_label.push(row.period_label);
                    inserted.created_at.push(row.created_at);
                    inserted
                        .first_day
                        .push(r.days.first().map(|(date, _)| *date));
                    inserted.last_day.push(r.days.last().map(|(date, _)| *date));
                    inserted.status.push(r.status.clone());
                    inserted.total.push(r.total);
                    inserted.payment_mode.push(row.payment_mode);
                    inserted.pay_before.push(r.pay_before);
                    inserted.expires_at.push(r.expires_at);
                    inserted.service.push(r.service.clone());
                    inserted.meal_option.push(r.meal_option.clone());
                    inserted.cancelled_dates.push(cancelled);
                    inserted.dates.push(r.days.iter().map(|(date, _)| *date));
                    inserted.unit_prices.push(row.unit_prices);
                }
                None if r.changed => {
                    updated.id.push(id);
                    updated.status.push(r.status.clone());
                    updated.total.push(r.total);
                    updated.pay_before.push(r.pay_before);
                    updated.expires_at.push(r.expires_at);
                    updated.cancelled_dates.push(cancelled);
                }
                None => {}
            }
            if keep {
                r.changed = false;
                written.insert(id, r);
            }
        }
        (Rows { inserted, updated }, written)
    }
}

/// Sorts `days` by date and keeps the last of each date, as a map built from them would: they
/// come sorted and one per date, and are then only checked. Kept in a map, a whole-year
/// reservation's days were a tree of ~10 nodes built, walked at every status change and freed,
/// for every reservation of a replay.
fn in_date_order<T>(days: &mut Vec<(NaiveDate, T)>) {
    if days.is_sorted_by(|a, b| a.0 < b.0) {
        return;
    }
    days.sort_by_key(|(date, _)| *date);
    days.reverse();
    days.dedup_by_key(|(date, _)| *date);
    days.reverse();
}

/// A batch's reservation rows, ready to be sent.
struct Rows {
    inserted: NewRows,
    updated: UpdatedRows,
}

/// What a flush or a hand-over writes.
struct Writes {
    rows: Rows,
    headcounts: headcounts::Changes,
}

#[async_trait]
impl HeldWrites for Writes {
    async fn write(self: Box<Self>, tx: &mut PgConnection) -> anyhow::Result<()> {
        self.execute(tx).await
    }
}

impl Writes {
    async fn execute(self, tx: &mut PgConnection) -> anyhow::Result<()> {
        let Writes {
            rows: Rows { inserted, updated },
            headcounts,
        } = self;
        if !inserted.id.is_empty() {
            // PostgreSQL has no array of arrays of different lengths: each row's dates are a
            // slice of one binary array (see `DateSlices`); its prices go as `UnitPrices` says.
            sqlx::query(
                "INSERT INTO reservation_view (id, number, organisation_id, family_id, child_id,
                    child_first_name, child_last_name, restaurant_id, restaurant_name, period_id,
                    period_activity, period_label, created_at, first_day, last_day, status, total,
                    payment_mode, pay_before, expires_at, service, meal_option, dates, unit_price,
                    unit_prices, cancelled_dates)
                 SELECT u.id, u.number, u.organisation_id, u.family_id, u.child_id,
                        u.child_first_name, u.child_last_name, u.restaurant_id, u.restaurant_name,
                        u.period_id, u.period_activity, u.period_label, u.created_at, u.first_day,
                        u.last_day, u.status, u.total, u.payment_mode, u.pay_before, u.expires_at,
                        u.service, u.meal_option, ($26::date[])[u.dates_from:u.dates_to],
                        u.unit_price, u.unit_prices::numeric[],
                        ($27::date[])[u.cancelled_from:u.cancelled_to]
                   FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::uuid[], $5::uuid[],
                    $6::text[], $7::text[], $8::uuid[], $9::text[], $10::uuid[], $11::text[],
                    $12::text[], $13::timestamptz[], $14::date[], $15::date[], $16::text[],
                    $17::numeric[], $18::text[], $19::timestamptz[], $20::timestamptz[],
                    $21::text[], $22::text[], $23::int[], $24::int[], $25::text[],
                    $28::int[], $29::int[], $30::numeric[])
                     AS u(id, number, organisation_id, family_id, child_id, child_first_name,
                          child_last_name, restaurant_id, restaurant_name, period_id,
                          period_activity, period_label, created_at, first_day, last_day, status,
                          total, payment_mode, pay_before, expires_at, service, meal_option,
                          dates_from, dates_to, unit_prices, cancelled_from, cancelled_to,
                          unit_price)",
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
            .bind(&inserted.service)
            .bind(&inserted.meal_option)
            .bind(&inserted.dates.from)
            .bind(&inserted.dates.to)
            .bind(&inserted.unit_prices.literal)
            .bind(&inserted.dates.all)
            .bind(&inserted.cancelled_dates.all)
            .bind(&inserted.cancelled_dates.from)
            .bind(&inserted.cancelled_dates.to)
            .bind(&inserted.unit_prices.price)
            .execute(&mut *tx)
            .await?;
        }
        if !updated.id.is_empty() {
            sqlx::query(
                "UPDATE reservation_view v
                    SET status = u.status, total = u.total, pay_before = u.pay_before,
                        expires_at = u.expires_at,
                        cancelled_dates = ($8::date[])[u.cancelled_from:u.cancelled_to]
                   FROM unnest($1::uuid[], $2::text[], $3::numeric[], $4::timestamptz[],
                               $5::timestamptz[], $6::int[], $7::int[])
                        AS u(id, status, total, pay_before, expires_at, cancelled_from,
                             cancelled_to)
                  WHERE v.id = u.id",
            )
            .bind(&updated.id)
            .bind(&updated.status)
            .bind(&updated.total)
            .bind(&updated.pay_before)
            .bind(&updated.expires_at)
            .bind(&updated.cancelled_dates.from)
            .bind(&updated.cancelled_dates.to)
            .bind(&updated.cancelled_dates.all)
            .execute(&mut *tx)
            .await?;
        }
        headcounts::add(tx, headcounts).await
    }
}

/// Every row's prices. Nearly every reservation has one price for all its days: such a row
/// keeps it once, in `unit_price` (migration 0040); the others have a price a day in
/// `unit_prices`, sent as a text literal (`{4.97,5.10}`). A binary `numeric[]` sliced per row,
/// as the dates are, costs more: `numeric` has no fixed length, and PostgreSQL finds a slice's
/// start by walking every element before it.
#[derive(Default)]
struct UnitPrices {
    /// The row's one price (0 for a row without days), `None` when its days have several.
    price: Vec<Option<Decimal>>,
    /// The row's prices as text, only when they differ.
    literal: Vec<Option<String>>,
}

impl UnitPrices {
    fn push(&mut self, prices: Vec<Decimal>) {
        let one = match prices.split_first() {
            Some((first, rest)) if rest.iter().all(|p| p == first) => Some(*first),
            Some(_) => None,
            None => Some(Decimal::ZERO),
        };
        self.price.push(one);
        self.literal.push(
            one.is_none()
                .then(|| join_braced(prices.iter().map(Decimal::to_string))),
        );
    }
}

/// Every row's dates in one binary `date[]`, each row's own being the slice `[from:to]` of it
/// (1-based and inclusive; an empty row's `from` is past its `to`, and its slice is `{}`).
/// Sent as text, one literal per row, a replay's ~560,000 dates of the opening day were each
/// parsed by PostgreSQL's `date_in`: a third of the reservations' writes.
#[derive(Default)]
struct DateSlices {
    all: Vec<NaiveDate>,
    from: Vec<i32>,
    to: Vec<i32>,
}

impl DateSlices {
    fn push(&mut self, dates: impl IntoIterator<Item = NaiveDate>) {
        self.from.push(self.position() + 1);
        self.all.extend(dates);
        self.to.push(self.position());
    }

    fn position(&self) -> i32 {
        i32::try_from(self.all.len()).expect("fewer than 2^31 dates in a batch")
    }
}

fn join_braced(items: impl Iterator<Item = String>) -> String {
    let mut out = String::from("{");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item);
    }
    out.push('}');
    out
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
    service: Vec<String>,
    meal_option: Vec<String>,
    dates: DateSlices,
    unit_prices: UnitPrices,
    cancelled_dates: DateSlices,
}

#[derive(Default)]
struct UpdatedRows {
    id: Vec<Uuid>,
    status: Vec<String>,
    total: Vec<Decimal>,
    pay_before: Vec<Option<DateTime<Utc>>>,
    expires_at: Vec<Option<DateTime<Utc>>>,
    cancelled_dates: DateSlices,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_with_one_price_goes_as_that_price_the_others_as_a_literal() {
        let price = |p: &str| p.parse::<Decimal>().unwrap();
        let mut prices = UnitPrices::default();
        prices.push(vec![price("4.97"); 3]);
        prices.push(vec![price("4.97"), price("5.10")]);
        prices.push(Vec::new());
        assert_eq!(
            prices.price,
            [Some(price("4.97")), None, Some(Decimal::ZERO)]
        );
        assert_eq!(
            prices.literal,
            [None, Some("{4.97,5.10}".to_string()), None]
        );
    }

    #[test]
    fn days_are_put_in_date_order_and_the_last_of_a_date_is_kept() {
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        let mut days = vec![
            (day("2025-09-04"), 1),
            (day("2025-09-01"), 2),
            (day("2025-09-04"), 3),
            (day("2025-09-02"), 4),
        ];
        in_date_order(&mut days);
        assert_eq!(
            days,
            [
                (day("2025-09-01"), 2),
                (day("2025-09-02"), 4),
                (day("2025-09-04"), 3)
            ]
        );
        let mut sorted = vec![(day("2025-09-01"), 1), (day("2025-09-02"), 2)];
        in_date_order(&mut sorted);
        assert_eq!(sorted, [(day("2025-09-01"), 1), (day("2025-09-02"), 2)]);
    }

    #[test]
    fn each_row_is_a_slice_of_the_batchs_dates_and_an_empty_row_an_empty_slice() {
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        let mut slices = DateSlices::default();
        slices.push([day("2025-09-01"), day("2025-09-02")]);
        slices.push([]);
        slices.push([day("2025-09-04")]);
        assert_eq!(slices.all.len(), 3);
        assert_eq!(slices.from, [1, 3, 3]);
        assert_eq!(slices.to, [2, 2, 3]);
    }
}
