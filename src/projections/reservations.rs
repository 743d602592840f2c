//! The reservations read model: each reservation (family history, cart, expiry queue) and each
//! of its days (child calendar), and the daily headcounts they add up to.

use async_trait::async_trait;
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
}

#[async_trait]
impl Projection for ReservationsProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["reservation_view", "reservation_day_view", "headcount_view"]
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        if event.aggregate_type != "Reservation" {
            return Ok(());
        }
        let id: Uuid = event.aggregate_id.parse()?;
        let payload: ReservationEvent = event.decode()?;
        match payload {
            ReservationEvent::ReservationRequested(e) => {
                let first_day = e.days.iter().map(|d| d.date).min();
                let last_day = e.days.iter().map(|d| d.date).max();
                sqlx::query(
                    "INSERT INTO reservation_view (id, number, organisation_id, family_id, child_id,
                        child_first_name, child_last_name, restaurant_id, restaurant_name, period_id,
                        period_activity, period_label, created_at, first_day, last_day, status, total,
                        payment_mode, expires_at)
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)",
                )
                .bind(id)
                .bind(e.number as i64)
                .bind(e.organisation_id)
                .bind(e.family_id)
                .bind(e.child.id)
                .bind(&e.child.first_name)
                .bind(&e.child.last_name)
                .bind(e.restaurant.id)
                .bind(&e.restaurant.name)
                .bind(e.period.id)
                .bind(&e.period.activity)
                .bind(&e.period.label)
                .bind(e.requested_at)
                .bind(first_day)
                .bind(last_day)
                .bind(ReservationStatus::Requested.as_str())
                .bind(e.total)
                .bind(match e.period.payment {
                    PaymentMode::Prepaid { .. } => "prepaid",
                    PaymentMode::Postpaid => "postpaid",
                })
                .bind(e.confirm_before)
                .execute(&mut *tx)
                .await?;
                let dates: Vec<_> = e.days.iter().map(|d| d.date).collect();
                let services: Vec<_> = e.days.iter().map(|d| d.service.clone()).collect();
                let options: Vec<_> = e.days.iter().map(|d| d.meal_option.clone()).collect();
                let prices: Vec<_> = e.days.iter().map(|d| d.unit_price).collect();
                sqlx::query(
                    "INSERT INTO reservation_day_view (reservation_id, date, child_id, restaurant_id,
                        period_id, service, meal_option, unit_price, status)
                     SELECT $1, d.date, $2, $3, $4, d.service, d.meal_option, d.unit_price, $9
                       FROM unnest($5::date[], $6::text[], $7::text[], $8::numeric[])
                            AS d(date, service, meal_option, unit_price)",
                )
                .bind(id)
                .bind(e.child.id)
                .bind(e.restaurant.id)
                .bind(e.period.id)
                .bind(&dates)
                .bind(&services)
                .bind(&options)
                .bind(&prices)
                .bind(day_status::REQUESTED)
                .execute(&mut *tx)
                .await?;
                headcounts::adjust(tx, id, None, 1).await?;
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
                set_status(tx, id, status, day, e.pay_before).await?;
            }
            ReservationEvent::ReservationPaid(_) | ReservationEvent::ReservationReinstated(_) => {
                set_status(tx, id, ReservationStatus::Paid, day_status::BOOKED, None).await?;
            }
            ReservationEvent::ReservationExpired(_) => {
                set_status(
                    tx,
                    id,
                    ReservationStatus::Expired,
                    day_status::EXPIRED,
                    None,
                )
                .await?;
            }
            ReservationEvent::DaysCancelled(e) => {
                headcounts::adjust(tx, id, Some(&e.days), -1).await?;
                sqlx::query(
                    "UPDATE reservation_day_view SET status = $3
                      WHERE reservation_id = $1 AND date = ANY($2)",
                )
                .bind(id)
                .bind(&e.days)
                .bind(day_status::CANCELLED)
                .execute(&mut *tx)
                .await?;
                let status = if e.reservation_cancelled {
                    Some(ReservationStatus::Cancelled.as_str())
                } else {
                    None
                };
                sqlx::query(
                    "UPDATE reservation_view SET total = $2, status = COALESCE($3, status),
                            pay_before = CASE WHEN $3 IS NULL THEN pay_before END,
                            expires_at = CASE WHEN $3 IS NULL THEN expires_at END
                      WHERE id = $1",
                )
                .bind(id)
                .bind(e.remaining_total)
                .bind(status)
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok(())
    }
}

/// Moves the reservation and its still-active days to a new status. Cancelled days stay so.
async fn set_status(
    tx: &mut PgConnection,
    id: Uuid,
    status: ReservationStatus,
    day: &str,
    pay_before: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<()> {
    headcounts::adjust(tx, id, None, -1).await?;
    // Only requests and holds awaiting payment can expire; `pay_before` stays for the record.
    sqlx::query(
        "UPDATE reservation_view SET status = $2, pay_before = COALESCE($3, pay_before),
                expires_at = CASE WHEN $2 IN ('requested', 'awaiting_payment') THEN $3 END
          WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(pay_before)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE reservation_day_view SET status = $2 WHERE reservation_id = $1 AND status <> $3",
    )
    .bind(id)
    .bind(day)
    .bind(day_status::CANCELLED)
    .execute(&mut *tx)
    .await?;
    headcounts::adjust(tx, id, None, 1).await?;
    Ok(())
}
