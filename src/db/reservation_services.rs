//! The domain's `ReservationServices`, answered from PostgreSQL and the injected clock.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::clock::Clock;
use crate::domain::period::{
    BookingContext, ChildRef, PaymentMode, PeriodRef, PeriodRules, RestaurantRef, ServiceHours,
};
use crate::domain::reservation::{Availability, LookupError, ReservationServices};
use crate::domain::tariff::DayPrices;

pub struct PgReservationServices {
    pool: PgPool,
    clock: Arc<dyn Clock>,
}

impl PgReservationServices {
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>) -> Self {
        Self { pool, clock }
    }
}

#[derive(sqlx::FromRow)]
struct ContextRow {
    organisation_id: Uuid,
    family_id: Uuid,
    child_first_name: String,
    child_last_name: String,
    meal_option: String,
    restaurant_id: Uuid,
    restaurant_name: String,
    activity: String,
    label: String,
    service: Json<ServiceHours>,
    rules: Json<PeriodRules>,
    payment: Json<PaymentMode>,
    unit_price: Decimal,
    capacity: i32,
    quotient_familial: Option<i32>,
    tariff_from: Option<Vec<NaiveDate>>,
    tariff_up_to: Option<Vec<Option<i32>>>,
    tariff_price: Option<Vec<Decimal>>,
}

fn unavailable(e: sqlx::Error) -> LookupError {
    tracing::error!(error = %e, "reservation services: database error");
    LookupError::Unavailable(e.to_string())
}

#[async_trait]
impl ReservationServices for PgReservationServices {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn booking_context(
        &self,
        family_id: Uuid,
        child_id: Uuid,
        period_id: Uuid,
    ) -> Result<BookingContext, LookupError> {
        // One statement with the period's price lists: each statement costs a connection of
        // the pool and sqlx's test of it when it goes back, and every booking reads this.
        let row = sqlx::query_as::<_, ContextRow>(&format!(
            "SELECT f.organisation_id, f.id AS family_id,
                    c.first_name AS child_first_name, c.last_name AS child_last_name, c.meal_option,
                    r.id AS restaurant_id, r.name AS restaurant_name,
                    p.activity, p.label, p.service, p.rules, p.payment, p.unit_price, p.capacity,
                    f.quotient_familial,
                    price_lists.tariff_from, price_lists.tariff_up_to, price_lists.tariff_price
               FROM children c
               JOIN families f ON f.id = c.family_id
               JOIN periods p ON p.id = $3
               JOIN restaurants r ON r.id = p.restaurant_id AND r.organisation_id = f.organisation_id
               {}
              WHERE c.id = $1 AND f.id = $2",
            super::tariffs::PRICE_LIST_COLUMNS_OF_P
        ))
        .bind(child_id)
        .bind(family_id)
        .bind(period_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        let Some(row) = row else {
            let child: Option<(Uuid,)> =
                sqlx::query_as("SELECT id FROM children WHERE id = $1 AND family_id = $2")
                    .bind(child_id)
                    .bind(family_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(unavailable)?;
            return Err(match child {
                None => LookupError::UnknownChild,
                Some(_) => LookupError::UnknownPeriod,
            });
        };
        let price_lists = super::tariffs::price_lists_of_columns(
            period_id,
            row.tariff_from,
            row.tariff_up_to,
            row.tariff_price,
        )
        .map_err(unavailable)?;
        let rules = row.rules.0;
        Ok(BookingContext {
            organisation_id: row.organisation_id,
            family_id: row.family_id,
            child: ChildRef {
                id: child_id,
                first_name: row.child_first_name,
                last_name: row.child_last_name,
                meal_option: row.meal_option,
            },
            restaurant: RestaurantRef {
                id: row.restaurant_id,
                name: row.restaurant_name,
            },
            period: PeriodRef {
                id: period_id,
                activity: row.activity,
                label: row.label,
                service: row.service.0,
                payment: row.payment.0,
                booking_cutoff: rules.booking_cutoff.clone(),
                cancellation_cutoff: rules.effective_cancellation_cutoff().clone(),
            },
            rules,
            prices: DayPrices::new(row.unit_price, price_lists, row.quotient_familial),
            capacity: row.capacity,
        })
    }

    async fn availability(
        &self,
        context: &BookingContext,
        days: &[NaiveDate],
    ) -> Result<Availability, LookupError> {
        super::places::availability(
            &self.pool,
            context.restaurant.id,
            &context.period.service.label,
            context.period.id,
            context.capacity,
            context.child.id,
            days,
        )
        .await
        .map_err(unavailable)
    }

    async fn next_reservation_number(&self, organisation_id: Uuid) -> Result<u64, LookupError> {
        // Committed without waiting for the WAL flush: a number matters only once the event that
        // carries it commits, and that commit flushes the WAL up to and past this one, so a
        // crash can lose the increment only together with every use of it. The organisation's
        // row is locked until this commit, so every request of the town used to wait for the
        // flushes of the ones before it.
        let (number,): (i64,) = sqlx::query_as(
            "WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
             UPDATE organisations SET next_reservation_number = next_reservation_number + 1
              WHERE id = $1 AND EXISTS (SELECT FROM async)
              RETURNING next_reservation_number - 1",
        )
        .bind(organisation_id)
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(number as u64)
    }
}
