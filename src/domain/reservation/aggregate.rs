use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commands::{Actor, RequestedDays, ReservationCommand};
use super::errors::ReservationError;
use super::events::*;
use super::late_cancellation::LateReason;
use super::services::{LookupError, Services};
use super::REQUEST_HOLD_MINUTES;
use crate::domain::period::{BookingCutoff, DayRefusal, PaymentMode};

/// The most days one request may name or select: every day of the longest period (two years).
pub const MAX_DAYS_PER_REQUEST: usize = 732;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    #[default]
    Requested,
    AwaitingPayment,
    Paid,
    Confirmed,
    Expired,
    Cancelled,
}

impl ReservationStatus {
    pub const ALL: [ReservationStatus; 6] = [
        ReservationStatus::Requested,
        ReservationStatus::AwaitingPayment,
        ReservationStatus::Paid,
        ReservationStatus::Confirmed,
        ReservationStatus::Expired,
        ReservationStatus::Cancelled,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Requested => "requested",
            ReservationStatus::AwaitingPayment => "awaiting_payment",
            ReservationStatus::Paid => "paid",
            ReservationStatus::Confirmed => "confirmed",
            ReservationStatus::Expired => "expired",
            ReservationStatus::Cancelled => "cancelled",
        }
    }
}

/// A status read back from storage that the domain does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown reservation status {0:?}")]
pub struct UnknownStatus(pub String);

/// Read models keep the status as its text; reading it back checks it.
impl TryFrom<String> for ReservationStatus {
    type Error = UnknownStatus;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text).ok_or(UnknownStatus(text))
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DayState {
    pub date: NaiveDate,
    pub unit_price: Decimal,
    pub cancelled: bool,
}

/// The decision state of one reservation, rebuilt from its events.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Reservation {
    pub requested: Option<ReservationRequested>,
    pub status: ReservationStatus,
    pub days: Vec<DayState>,
    pub total: Decimal,
    pub pay_before: Option<DateTime<Utc>>,
    /// The payment that paid it.
    #[serde(default)]
    pub paid_by: Option<Uuid>,
    /// Late cancellations the town's staff granted, in order.
    #[serde(default)]
    pub late_grants: Vec<LateCancellationGranted>,
}

impl Reservation {
    pub fn exists(&self) -> bool {
        self.requested.is_some()
    }

    pub fn family_id(&self) -> Option<Uuid> {
        self.requested.as_ref().map(|r| r.family_id)
    }

    pub fn active_days(&self) -> impl Iterator<Item = &DayState> {
        self.days.iter().filter(|d| !d.cancelled)
    }

    /// A family sees only its own reservations; anything else is "not found", never "forbidden",
    /// so that ids of other families cannot be probed.
    fn visible_to(&self, actor: Actor) -> Result<&ReservationRequested, ReservationError> {
        let requested = self.requested.as_ref().ok_or(ReservationError::NotFound)?;
        match actor {
            Actor::Family(family) if family != requested.family_id => {
                Err(ReservationError::NotFound)
            }
            _ => Ok(requested),
        }
    }

    fn refuse_if_ended(&self) -> Result<(), ReservationError> {
        match self.status {
            ReservationStatus::Expired => Err(ReservationError::AlreadyExpired),
            ReservationStatus::Cancelled => Err(ReservationError::AlreadyCancelled),
            _ => Ok(()),
        }
    }

    fn booking_cutoff(&self) -> Option<&BookingCutoff> {
        self.requested.as_ref().map(|r| &r.period.booking_cutoff)
    }

    fn cancellation_cutoff(&self) -> Option<&BookingCutoff> {
        self.requested
            .as_ref()
            .map(|r| &r.period.cancellation_cutoff)
    }

    /// Which of `days` can no longer be cancelled at `now`: the same rule as the cancel
    /// command, so that a screen can offer only what the command will accept.
    pub fn past_cancellation_cutoff<'a>(
        &self,
        days: impl Iterator<Item = &'a NaiveDate>,
        now: DateTime<Utc>,
    ) -> Vec<NaiveDate> {
        Self::days_past(self.cancellation_cutoff(), days, now)
    }

    fn days_past<'a>(
        cutoff: Option<&BookingCutoff>,
        days: impl Iterator<Item = &'a NaiveDate>,
        now: DateTime<Utc>,
    ) -> Vec<NaiveDate> {
        match cutoff {
            Some(cutoff) => days
                .filter(|d| now >= cutoff.deadline_for(**d))
                .copied()
                .collect(),
            None => Vec::new(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn request(
        &self,
        family_id: Uuid,
        child_id: Uuid,
        period_id: Uuid,
        days: RequestedDays,
        partial: bool,
        reservation_id: Uuid,
        services: &Services,
    ) -> Result<ReservationEvent, ReservationError> {
        if self.exists() {
            return Err(ReservationError::AlreadyRequested);
        }
        if let RequestedDays::Explicit(days) = &days {
            if days.is_empty() {
                return Err(ReservationError::NoDays);
            }
            // Bounded before anything is looked up: a request is a child's year at most.
            if days.len() > MAX_DAYS_PER_REQUEST {
                return Err(ReservationError::TooManyDays {
                    max: MAX_DAYS_PER_REQUEST,
                });
            }
            let mut seen = BTreeSet::new();
            let duplicates: BTreeSet<NaiveDate> =
                days.iter().filter(|d| !seen.insert(**d)).copied().collect();
            if !duplicates.is_empty() {
                return Err(ReservationError::DuplicateDays {
                    days: duplicates.into_iter().collect(),
                });
            }
        }
        let context = services
            .booking_context(family_id, child_id, period_id)
            .await?;
        let candidates: Vec<NaiveDate> = match days {
            RequestedDays::Explicit(mut days) => {
                days.sort();
                days
            }
            RequestedDays::Selection(selection) => selection
                .expand(&context.rules)
                .map_err(|e| ReservationError::InvalidSelection(e.to_string()))?,
        };
        // A whole period (at most two years) stays under the bound too.
        if candidates.len() > MAX_DAYS_PER_REQUEST {
            return Err(ReservationError::TooManyDays {
                max: MAX_DAYS_PER_REQUEST,
            });
        }
        let now = services.now();
        // Rules first; places and the child's other meals only for days the rules allow.
        let mut refused: Vec<RefusedDay> = Vec::new();
        let mut open = Vec::new();
        for day in candidates {
            match context.rules.check_bookable(day, now) {
                Ok(()) => open.push(day),
                Err(reason) => refused.push(RefusedDay { date: day, reason }),
            }
        }
        let availability = services.availability(&context, &open).await?;
        let mut bookable = Vec::new();
        for day in open {
            if availability.already_booked.contains(&day) {
                refused.push(RefusedDay {
                    date: day,
                    reason: DayRefusal::AlreadyBooked,
                });
            } else if availability.full.contains(&day) {
                refused.push(RefusedDay {
                    date: day,
                    reason: DayRefusal::Full,
                });
            } else {
                bookable.push(day);
            }
        }
        refused.sort_by_key(|r| r.date);
        if !partial {
            if let Some(first) = refused.iter().map(|r| r.reason).min() {
                let days = refused
                    .iter()
                    .filter(|r| r.reason == first)
                    .map(|r| r.date)
                    .collect();
                return Err(ReservationError::for_days(first, days));
            }
        }
        if bookable.is_empty() {
            return Err(ReservationError::NoBookableDay { refused });
        }
        let number = services
            .next_reservation_number(context.organisation_id)
            .await?;
        let service: std::sync::Arc<str> = context.period.service.label.as_str().into();
        let meal_option: std::sync::Arc<str> = context.child.meal_option.as_str().into();
        let booked: Vec<BookedDay> = bookable
            .into_iter()
            .map(|date| BookedDay {
                date,
                service: service.clone(),
                meal_option: meal_option.clone(),
                unit_price: context.prices.price_on(date),
            })
            .collect();
        let total = booked.iter().map(|d| d.unit_price).sum();
        Ok(ReservationEvent::ReservationRequested(Box::new(
            ReservationRequested {
                reservation_id,
                number,
                organisation_id: context.organisation_id,
                family_id: context.family_id,
                child: context.child,
                restaurant: context.restaurant,
                period: context.period,
                days: booked,
                refused,
                total,
                requested_at: now,
                confirm_before: Some(now + Duration::minutes(REQUEST_HOLD_MINUTES)),
            },
        )))
    }

    fn confirm(
        &self,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<ReservationEvent, ReservationError> {
        let requested = self.visible_to(actor)?;
        self.refuse_if_ended()?;
        if self.status != ReservationStatus::Requested {
            return Err(ReservationError::AlreadyConfirmed);
        }
        if requested
            .confirm_before
            .is_some_and(|deadline| now >= deadline)
        {
            return Err(ReservationError::HoldExpired);
        }
        let past = Self::days_past(
            self.booking_cutoff(),
            self.active_days().map(|d| &d.date),
            now,
        );
        if !past.is_empty() {
            return Err(ReservationError::PastCutoff { days: past });
        }
        let pay_before = match requested.period.payment {
            PaymentMode::Prepaid { hold_minutes } => {
                Some(now + Duration::minutes(hold_minutes as i64))
            }
            PaymentMode::Postpaid => None,
        };
        Ok(ReservationEvent::ReservationConfirmed(
            ReservationConfirmed {
                confirmed_at: now,
                total: self.total,
                pay_before,
            },
        ))
    }

    /// What `actor` owes to pay this reservation now, or why it cannot be paid. Payment
    /// creation asks the same question before the provider is involved.
    pub fn payable_amount(
        &self,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Decimal, ReservationError> {
        self.visible_to(actor)?;
        self.refuse_if_ended()?;
        match self.status {
            ReservationStatus::Requested => return Err(ReservationError::NotConfirmed),
            ReservationStatus::Paid => return Err(ReservationError::AlreadyPaid),
            ReservationStatus::Confirmed => return Err(ReservationError::NotPrepaid),
            _ => {}
        }
        if self.pay_before.is_some_and(|deadline| now >= deadline) {
            return Err(ReservationError::PaymentDeadlinePassed);
        }
        Ok(self.total)
    }

    /// The provider's word that `amount` was paid. The money is in, so the deadline no longer
    /// matters: a hold still there is paid; one that expired is paid again if every place is
    /// still free, and otherwise refused (`places_gone`) so that the payer is refunded.
    async fn pay(
        &self,
        actor: Actor,
        payment_id: Uuid,
        amount: Decimal,
        services: &Services,
    ) -> Result<ReservationEvent, ReservationError> {
        let now = services.now();
        let requested = self.visible_to(actor)?;
        let settled_by_provider = actor == Actor::System;
        let total = match self.status {
            ReservationStatus::AwaitingPayment if settled_by_provider => self.total,
            ReservationStatus::Expired if settled_by_provider && self.pay_before.is_some() => {
                check_amount(amount, self.total)?;
                let days: Vec<NaiveDate> = self.active_days().map(|d| d.date).collect();
                let gone = self.days_taken_since(requested, &days, services).await?;
                if !gone.is_empty() {
                    return Err(ReservationError::PlacesGone { days: gone });
                }
                return Ok(ReservationEvent::ReservationReinstated(
                    ReservationReinstated {
                        paid_at: now,
                        payment_id,
                        amount,
                        days,
                    },
                ));
            }
            _ => self.payable_amount(actor, now)?,
        };
        check_amount(amount, total)?;
        Ok(ReservationEvent::ReservationPaid(ReservationPaid {
            paid_at: now,
            payment_id,
            amount,
        }))
    }

    /// Among the days of this expired reservation, those whose place went to someone else, or
    /// on which the child has another meal now.
    async fn days_taken_since(
        &self,
        requested: &ReservationRequested,
        days: &[NaiveDate],
        services: &Services,
    ) -> Result<Vec<NaiveDate>, ReservationError> {
        let context = match services
            .booking_context(requested.family_id, requested.child.id, requested.period.id)
            .await
        {
            Ok(context) => context,
            // The child or the period is gone: nothing can be served.
            Err(LookupError::UnknownChild | LookupError::UnknownPeriod) => return Ok(days.to_vec()),
            Err(e) => return Err(e.into()),
        };
        let availability = services.availability(&context, days).await?;
        Ok(days
            .iter()
            .filter(|d| availability.full.contains(d) || availability.already_booked.contains(d))
            .copied()
            .collect())
    }

    fn expire(&self, now: DateTime<Utc>) -> Result<ReservationEvent, ReservationError> {
        let requested = self.visible_to(Actor::System)?;
        self.refuse_if_ended()?;
        let deadline = match self.status {
            ReservationStatus::Paid => return Err(ReservationError::AlreadyPaid),
            ReservationStatus::Confirmed => return Err(ReservationError::NotPrepaid),
            // An unconfirmed request holds places until its own deadline.
            ReservationStatus::Requested => requested.confirm_before,
            _ => self.pay_before,
        };
        match deadline {
            Some(deadline) if now >= deadline => {}
            _ => return Err(ReservationError::DeadlineNotReached),
        }
        Ok(ReservationEvent::ReservationExpired(ReservationExpired {
            expired_at: now,
            released_days: self.active_days().map(|d| d.date).collect(),
        }))
    }

    /// The days to cancel: every day still booked, or these, each of them still booked.
    fn days_to_cancel(
        &self,
        days: Option<Vec<NaiveDate>>,
    ) -> Result<BTreeSet<NaiveDate>, ReservationError> {
        self.refuse_if_ended()?;
        let active: BTreeSet<NaiveDate> = self.active_days().map(|d| d.date).collect();
        let wanted: BTreeSet<NaiveDate> = match days {
            None => active.clone(),
            Some(days) if days.is_empty() => return Err(ReservationError::NoDays),
            Some(days) => days.into_iter().collect(),
        };
        let unknown: Vec<NaiveDate> = wanted.difference(&active).copied().collect();
        if !unknown.is_empty() {
            return Err(ReservationError::UnknownDays { days: unknown });
        }
        Ok(wanted)
    }

    fn price_of(&self, days: &BTreeSet<NaiveDate>) -> Decimal {
        self.active_days()
            .filter(|d| days.contains(&d.date))
            .map(|d| d.unit_price)
            .sum()
    }

    fn cancel(
        &self,
        actor: Actor,
        days: Option<Vec<NaiveDate>>,
        now: DateTime<Utc>,
    ) -> Result<ReservationEvent, ReservationError> {
        self.visible_to(actor)?;
        let wanted = self.days_to_cancel(days)?;
        let past = Self::days_past(self.cancellation_cutoff(), wanted.iter(), now);
        if !past.is_empty() {
            return Err(ReservationError::PastCutoff { days: past });
        }
        Ok(self.days_cancelled(&wanted, now))
    }

    /// Staff cancel past the cut-off too: the cancellation carries the grant of the late days
    /// (its reason and what the family gets back for them).
    fn cancel_late(
        &self,
        days: Option<Vec<NaiveDate>>,
        reason: LateReason,
        now: DateTime<Utc>,
    ) -> Result<ReservationEvent, ReservationError> {
        self.visible_to(Actor::Staff)?;
        let wanted = self.days_to_cancel(days)?;
        let late: BTreeSet<NaiveDate> =
            Self::days_past(self.cancellation_cutoff(), wanted.iter(), now)
                .into_iter()
                .collect();
        let mut event = self.days_cancelled(&wanted, now);
        if let ReservationEvent::DaysCancelled(cancelled) = &mut event {
            if !late.is_empty() {
                let paid = self.status == ReservationStatus::Paid;
                cancelled.late = Some(LateCancellationGranted {
                    days: late.iter().copied().collect(),
                    reason,
                    outcome: reason.outcome(paid),
                    amount: if paid {
                        self.price_of(&late)
                    } else {
                        Decimal::ZERO
                    },
                });
            }
        }
        Ok(event)
    }

    fn days_cancelled(&self, wanted: &BTreeSet<NaiveDate>, now: DateTime<Utc>) -> ReservationEvent {
        let amount = self.price_of(wanted);
        let active = self.active_days().count();
        ReservationEvent::DaysCancelled(DaysCancelled {
            cancelled_at: now,
            days: wanted.iter().copied().collect(),
            amount,
            remaining_total: self.total - amount,
            reservation_cancelled: wanted.len() == active,
            credited: if self.status == ReservationStatus::Paid {
                amount
            } else {
                Decimal::ZERO
            },
            late: None,
        })
    }
}

fn check_amount(paid: Decimal, total: Decimal) -> Result<(), ReservationError> {
    if paid == total {
        Ok(())
    } else {
        Err(ReservationError::AmountMismatch { paid, total })
    }
}

impl Aggregate for Reservation {
    const TYPE: &'static str = "Reservation";
    type Command = ReservationCommand;
    type Event = ReservationEvent;
    type Error = ReservationError;
    type Services = Services;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            ReservationCommand::Request {
                reservation_id,
                family_id,
                child_id,
                period_id,
                days,
                partial,
            } => {
                self.request(
                    family_id,
                    child_id,
                    period_id,
                    days,
                    partial,
                    reservation_id,
                    services,
                )
                .await?
            }
            ReservationCommand::Confirm { actor } => self.confirm(actor, services.now())?,
            ReservationCommand::Pay {
                actor,
                payment_id,
                amount,
            } => self.pay(actor, payment_id, amount, services).await?,
            ReservationCommand::Expire => self.expire(services.now())?,
            ReservationCommand::Cancel { actor, days } => {
                self.cancel(actor, days, services.now())?
            }
            ReservationCommand::CancelLate { days, reason } => {
                self.cancel_late(days, reason, services.now())?
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ReservationEvent::ReservationRequested(e) => {
                self.days = e
                    .days
                    .iter()
                    .map(|d| DayState {
                        date: d.date,
                        unit_price: d.unit_price,
                        cancelled: false,
                    })
                    .collect();
                self.total = e.total;
                self.status = ReservationStatus::Requested;
                self.requested = Some(*e);
            }
            ReservationEvent::ReservationConfirmed(e) => {
                self.pay_before = e.pay_before;
                self.status = if e.pay_before.is_some() {
                    ReservationStatus::AwaitingPayment
                } else {
                    ReservationStatus::Confirmed
                };
            }
            ReservationEvent::ReservationPaid(e) => {
                self.status = ReservationStatus::Paid;
                self.paid_by = Some(e.payment_id);
            }
            ReservationEvent::ReservationReinstated(e) => {
                self.status = ReservationStatus::Paid;
                self.paid_by = Some(e.payment_id);
            }
            ReservationEvent::ReservationExpired(_) => self.status = ReservationStatus::Expired,
            ReservationEvent::DaysCancelled(e) => {
                for day in self.days.iter_mut().filter(|d| e.days.contains(&d.date)) {
                    day.cancelled = true;
                }
                self.total = e.remaining_total;
                if let Some(late) = e.late {
                    self.late_grants.push(late);
                }
                if e.reservation_cancelled {
                    self.status = ReservationStatus::Cancelled;
                }
            }
        }
    }
}
