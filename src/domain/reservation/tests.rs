//! Every rule and refusal of the Reservation aggregate, through the cqrs-es TestFramework.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use cqrs_es::test::TestFramework;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use uuid::Uuid;

use super::*;
use crate::domain::period::*;
use crate::domain::tariff::{Bracket, DayPrices, PriceList};

const FAMILY: Uuid = Uuid::from_u128(1);
const OTHER_FAMILY: Uuid = Uuid::from_u128(2);
const CHILD: Uuid = Uuid::from_u128(3);
const PERIOD: Uuid = Uuid::from_u128(4);
const ORG: Uuid = Uuid::from_u128(5);
const RESERVATION: Uuid = Uuid::from_u128(6);
const PAYMENT: Uuid = Uuid::from_u128(7);

struct FakeServices {
    now: DateTime<Utc>,
    payment: PaymentMode,
    numbers: AtomicU64,
    full: BTreeSet<NaiveDate>,
    already_booked: BTreeSet<NaiveDate>,
    opens: Option<chrono::NaiveDateTime>,
    prices: DayPrices,
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// 11 January 2017, 14:38 in Paris: the first guide's moment.
fn guide_now() -> DateTime<Utc> {
    "2017-01-11T13:38:00Z".parse().unwrap()
}

fn period_ref(payment: PaymentMode) -> PeriodRef {
    PeriodRef {
        id: PERIOD,
        activity: "CANTINE SCOLAIRE".into(),
        label: "Restauration Le Repausset 2016-2017".into(),
        service: ServiceHours {
            label: "REPAS".into(),
            start: LocalTime::parse("12:00").unwrap(),
            end: LocalTime::parse("13:00").unwrap(),
        },
        payment,
        booking_cutoff: BookingCutoff::WeekdayOfPreviousWeek {
            weekday: Weekday::Tue,
            time: LocalTime::parse("09:30").unwrap(),
        },
        cancellation_cutoff: BookingCutoff::DaysBefore {
            days: 1,
            time: LocalTime::parse("10:00").unwrap(),
        },
    }
}

fn child() -> ChildRef {
    ChildRef {
        id: CHILD,
        first_name: "Hervé".into(),
        last_name: "DUPONT".into(),
        meal_option: "standard".into(),
    }
}

#[async_trait]
impl ReservationServices for FakeServices {
    fn now(&self) -> DateTime<Utc> {
        self.now
    }

    async fn booking_context(
        &self,
        family_id: Uuid,
        child_id: Uuid,
        period_id: Uuid,
    ) -> Result<BookingContext, LookupError> {
        if family_id != FAMILY || child_id != CHILD {
            return Err(LookupError::UnknownChild);
        }
        if period_id != PERIOD {
            return Err(LookupError::UnknownPeriod);
        }
        let period = period_ref(self.payment.clone());
        Ok(BookingContext {
            organisation_id: ORG,
            family_id,
            child: child(),
            restaurant: RestaurantRef {
                id: Uuid::from_u128(8),
                name: "Restaurant Scolaire Le Repausset".into(),
            },
            rules: PeriodRules {
                from: d("2016-09-01"),
                to: d("2017-07-07"),
                opening_days: vec![Weekday::Mon, Weekday::Tue, Weekday::Thu, Weekday::Fri],
                closures: vec![Closure {
                    from: d("2017-02-18"),
                    to: d("2017-03-05"),
                    label: "Hiver".into(),
                }],
                booking_cutoff: period.booking_cutoff.clone(),
                cancellation_cutoff: Some(period.cancellation_cutoff.clone()),
                bookings_open_at: self.opens,
            },
            period,
            prices: self.prices.clone(),
            capacity: 120,
        })
    }

    async fn availability(
        &self,
        _context: &BookingContext,
        days: &[NaiveDate],
    ) -> Result<Availability, LookupError> {
        Ok(Availability {
            full: days
                .iter()
                .filter(|d| self.full.contains(d))
                .copied()
                .collect(),
            already_booked: days
                .iter()
                .filter(|d| self.already_booked.contains(d))
                .copied()
                .collect(),
        })
    }

    async fn next_reservation_number(&self, organisation_id: Uuid) -> Result<u64, LookupError> {
        assert_eq!(organisation_id, ORG);
        Ok(self.numbers.fetch_add(1, Ordering::SeqCst))
    }
}

fn services_at(now: DateTime<Utc>, payment: PaymentMode) -> Services {
    Arc::new(fake(now, payment))
}

fn fake(now: DateTime<Utc>, payment: PaymentMode) -> FakeServices {
    FakeServices {
        now,
        payment,
        numbers: AtomicU64::new(14),
        full: BTreeSet::new(),
        already_booked: BTreeSet::new(),
        opens: None,
        prices: DayPrices::flat(dec!(4.15)),
    }
}

fn prepaid() -> PaymentMode {
    PaymentMode::Prepaid { hold_minutes: 60 }
}

fn framework_at(now: DateTime<Utc>) -> TestFramework<Reservation> {
    TestFramework::with(services_at(now, prepaid()))
}

fn guide_days() -> Vec<NaiveDate> {
    ["2017-01-23", "2017-01-24", "2017-01-27", "2017-01-31"]
        .map(d)
        .to_vec()
}

fn request(days: Vec<NaiveDate>) -> ReservationCommand {
    ReservationCommand::Request {
        reservation_id: RESERVATION,
        family_id: FAMILY,
        child_id: CHILD,
        period_id: PERIOD,
        days: RequestedDays::Explicit(days),
        partial: false,
    }
}

fn requested_event(payment: PaymentMode) -> ReservationEvent {
    let days: Vec<BookedDay> = guide_days()
        .into_iter()
        .map(|date| BookedDay {
            date,
            service: "REPAS".into(),
            meal_option: "standard".into(),
            unit_price: dec!(4.15),
        })
        .collect();
    ReservationEvent::ReservationRequested(Box::new(ReservationRequested {
        reservation_id: RESERVATION,
        number: 14,
        organisation_id: ORG,
        family_id: FAMILY,
        child: child(),
        restaurant: RestaurantRef {
            id: Uuid::from_u128(8),
            name: "Restaurant Scolaire Le Repausset".into(),
        },
        period: period_ref(payment),
        days,
        refused: vec![],
        total: dec!(16.60),
        requested_at: guide_now(),
        confirm_before: Some(guide_now() + Duration::minutes(60)),
    }))
}

fn confirmed_event() -> ReservationEvent {
    ReservationEvent::ReservationConfirmed(ReservationConfirmed {
        confirmed_at: guide_now(),
        total: dec!(16.60),
        pay_before: Some(guide_now() + Duration::minutes(60)),
    })
}

fn paid_event() -> ReservationEvent {
    ReservationEvent::ReservationPaid(ReservationPaid {
        paid_at: guide_now() + Duration::minutes(5),
        payment_id: PAYMENT,
        amount: dec!(16.60),
    })
}

fn expired_event() -> ReservationEvent {
    ReservationEvent::ReservationExpired(ReservationExpired {
        expired_at: guide_now() + Duration::minutes(60),
        released_days: guide_days(),
    })
}

fn family() -> Actor {
    Actor::Family(FAMILY)
}

fn pay(amount: Decimal) -> ReservationCommand {
    ReservationCommand::Pay {
        actor: family(),
        payment_id: PAYMENT,
        amount,
    }
}

fn expect_refusal(result: cqrs_es::test::AggregateResultValidator<Reservation>, code: &str) {
    let error = result
        .inspect_result()
        .expect_err("the command should be refused");
    assert_eq!(error.code(), code, "{error:?}");
}

#[tokio::test]
async fn the_first_guide_request_captures_four_days_at_4_15() {
    framework_at(guide_now())
        .given_no_previous_events()
        .when_async(request(guide_days()))
        .await
        .then_expect_events(vec![requested_event(prepaid())]);
}

#[tokio::test]
async fn days_are_stored_in_calendar_order() {
    let mut shuffled = guide_days();
    shuffled.reverse();
    framework_at(guide_now())
        .given_no_previous_events()
        .when_async(request(shuffled))
        .await
        .then_expect_events(vec![requested_event(prepaid())]);
}

#[tokio::test]
async fn seventeen_meals_cost_exactly_70_55() {
    let days: Vec<NaiveDate> = (0..60)
        .map(|i| d("2017-03-06") + Duration::days(i))
        .filter(|day| {
            !matches!(
                chrono::Datelike::weekday(day),
                chrono::Weekday::Wed | chrono::Weekday::Sat | chrono::Weekday::Sun
            )
        })
        .take(17)
        .collect();
    let events = framework_at(guide_now())
        .given_no_previous_events()
        .when_async(request(days))
        .await
        .inspect_result()
        .unwrap();
    match &events[0] {
        ReservationEvent::ReservationRequested(e) => assert_eq!(e.total, dec!(70.55)),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn refuses_an_empty_request() {
    expect_refusal(
        framework_at(guide_now())
            .given_no_previous_events()
            .when_async(request(vec![]))
            .await,
        "no_days",
    );
}

#[tokio::test]
async fn refuses_duplicate_days() {
    let days = vec![d("2017-01-23"), d("2017-01-23")];
    let result = framework_at(guide_now())
        .given_no_previous_events()
        .when_async(request(days))
        .await;
    let error = result.inspect_result().unwrap_err();
    assert_eq!(error.code(), "duplicate_days");
    assert_eq!(error.days(), Some(vec![d("2017-01-23")]));
}

#[tokio::test]
async fn refuses_days_outside_the_period() {
    let result = framework_at(guide_now())
        .given_no_previous_events()
        .when_async(request(vec![d("2017-01-23"), d("2017-07-10")]))
        .await;
    let error = result.inspect_result().unwrap_err();
    assert_eq!(error.code(), "outside_period");
    assert_eq!(error.days(), Some(vec![d("2017-07-10")]));
}

#[tokio::test]
async fn refuses_a_day_that_is_not_an_opening_day() {
    // Wednesday 25 January 2017.
    expect_refusal(
        framework_at(guide_now())
            .given_no_previous_events()
            .when_async(request(vec![d("2017-01-25")]))
            .await,
        "closed_day",
    );
}

#[tokio::test]
async fn refuses_a_closed_day() {
    // The winter holidays.
    expect_refusal(
        framework_at(guide_now())
            .given_no_previous_events()
            .when_async(request(vec![d("2017-02-20")]))
            .await,
        "closed_day",
    );
}

#[tokio::test]
async fn refuses_a_day_past_the_cutoff() {
    // Friday 20 January's deadline was Tuesday 10 January, 09:30.
    let result = framework_at(guide_now())
        .given_no_previous_events()
        .when_async(request(vec![d("2017-01-20"), d("2017-01-23")]))
        .await;
    let error = result.inspect_result().unwrap_err();
    assert_eq!(error.code(), "past_cutoff");
    assert_eq!(error.days(), Some(vec![d("2017-01-20")]));
}

#[tokio::test]
async fn the_cutoff_is_read_in_paris_time() {
    // Monday 23 January's deadline is Tuesday 17 January 09:30 Paris = 08:30 UTC.
    let just_before: DateTime<Utc> = "2017-01-17T08:29:59Z".parse().unwrap();
    framework_at(just_before)
        .given_no_previous_events()
        .when_async(request(vec![d("2017-01-23")]))
        .await
        .inspect_result()
        .expect("bookable one second before the deadline");
    expect_refusal(
        framework_at(just_before + Duration::seconds(1))
            .given_no_previous_events()
            .when_async(request(vec![d("2017-01-23")]))
            .await,
        "past_cutoff",
    );
}

#[tokio::test]
async fn refuses_another_familys_child() {
    let command = ReservationCommand::Request {
        reservation_id: RESERVATION,
        family_id: OTHER_FAMILY,
        child_id: CHILD,
        period_id: PERIOD,
        days: RequestedDays::Explicit(guide_days()),
        partial: false,
    };
    expect_refusal(
        framework_at(guide_now())
            .given_no_previous_events()
            .when_async(command)
            .await,
        "unknown_child",
    );
}

#[tokio::test]
async fn refuses_to_request_twice() {
    expect_refusal(
        framework_at(guide_now())
            .given(vec![requested_event(prepaid())])
            .when_async(request(guide_days()))
            .await,
        "already_requested",
    );
}

#[tokio::test]
async fn prepaid_confirmation_holds_for_one_hour() {
    framework_at(guide_now())
        .given(vec![requested_event(prepaid())])
        .when_async(ReservationCommand::Confirm { actor: family() })
        .await
        .then_expect_events(vec![confirmed_event()]);
}

#[tokio::test]
async fn postpaid_confirmation_books_at_once() {
    TestFramework::<Reservation>::with(services_at(guide_now(), PaymentMode::Postpaid))
        .given(vec![requested_event(PaymentMode::Postpaid)])
        .when_async(ReservationCommand::Confirm { actor: family() })
        .await
        .then_expect_events(vec![ReservationEvent::ReservationConfirmed(
            ReservationConfirmed {
                confirmed_at: guide_now(),
                total: dec!(16.60),
                pay_before: None,
            },
        )]);
}

#[tokio::test]
async fn refuses_to_confirm_twice() {
    expect_refusal(
        framework_at(guide_now())
            .given(vec![requested_event(prepaid()), confirmed_event()])
            .when_async(ReservationCommand::Confirm { actor: family() })
            .await,
        "already_confirmed",
    );
}

#[tokio::test]
async fn refuses_to_confirm_once_a_day_is_past_its_cutoff() {
    // Requested on Tuesday 17 January at 09:00 Paris; by 09:40 Monday 23's cut-off has passed.
    let requested_at: DateTime<Utc> = "2017-01-17T08:00:00Z".parse().unwrap();
    let mut requested = requested_event(prepaid());
    if let ReservationEvent::ReservationRequested(e) = &mut requested {
        e.requested_at = requested_at;
        e.confirm_before = Some(requested_at + Duration::minutes(60));
    }
    expect_refusal(
        framework_at(requested_at + Duration::minutes(40))
            .given(vec![requested])
            .when_async(ReservationCommand::Confirm { actor: family() })
            .await,
        "past_cutoff",
    );
}

#[tokio::test]
async fn another_family_cannot_even_see_it() {
    expect_refusal(
        framework_at(guide_now())
            .given(vec![requested_event(prepaid())])
            .when_async(ReservationCommand::Confirm {
                actor: Actor::Family(OTHER_FAMILY),
            })
            .await,
        "not_found",
    );
}

#[tokio::test]
async fn commands_on_a_missing_reservation_are_not_found() {
    expect_refusal(
        framework_at(guide_now())
            .given_no_previous_events()
            .when_async(ReservationCommand::Confirm {
                actor: Actor::Staff,
            })
            .await,
        "not_found",
    );
}

#[tokio::test]
async fn pays_the_exact_total_before_the_deadline() {
    framework_at(guide_now() + Duration::minutes(5))
        .given(vec![requested_event(prepaid()), confirmed_event()])
        .when_async(pay(dec!(16.60)))
        .await
        .then_expect_events(vec![paid_event()]);
}

#[tokio::test]
async fn refuses_another_amount() {
    let result = framework_at(guide_now() + Duration::minutes(5))
        .given(vec![requested_event(prepaid()), confirmed_event()])
        .when_async(pay(dec!(16.59)))
        .await;
    expect_refusal(result, "amount_mismatch");
}

#[tokio::test]
async fn refuses_payment_after_the_deadline() {
    expect_refusal(
        framework_at(guide_now() + Duration::minutes(60))
            .given(vec![requested_event(prepaid()), confirmed_event()])
            .when_async(pay(dec!(16.60)))
            .await,
        "payment_deadline_passed",
    );
}

#[tokio::test]
async fn refuses_to_pay_twice() {
    expect_refusal(
        framework_at(guide_now() + Duration::minutes(6))
            .given(vec![
                requested_event(prepaid()),
                confirmed_event(),
                paid_event(),
            ])
            .when_async(pay(dec!(16.60)))
            .await,
        "already_paid",
    );
}

#[tokio::test]
async fn refuses_to_pay_before_confirmation() {
    expect_refusal(
        framework_at(guide_now())
            .given(vec![requested_event(prepaid())])
            .when_async(pay(dec!(16.60)))
            .await,
        "not_confirmed",
    );
}

#[tokio::test]
async fn refuses_to_pay_an_expired_reservation() {
    expect_refusal(
        framework_at(guide_now() + Duration::minutes(61))
            .given(vec![
                requested_event(prepaid()),
                confirmed_event(),
                expired_event(),
            ])
            .when_async(pay(dec!(16.60)))
            .await,
        "already_expired",
    );
}

#[tokio::test]
async fn expires_at_the_deadline_releasing_every_day() {
    framework_at(guide_now() + Duration::minutes(60))
        .given(vec![requested_event(prepaid()), confirmed_event()])
        .when_async(ReservationCommand::Expire)
        .await
        .then_expect_events(vec![expired_event()]);
}

#[tokio::test]
async fn refuses_to_expire_before_the_deadline() {
    expect_refusal(
        framework_at(guide_now() + Duration::minutes(59))
            .given(vec![requested_event(prepaid()), confirmed_event()])
            .when_async(ReservationCommand::Expire)
            .await,
        "deadline_not_reached",
    );
}

#[tokio::test]
async fn refuses_to_expire_after_payment() {
    expect_refusal(
        framework_at(guide_now() + Duration::minutes(90))
            .given(vec![
                requested_event(prepaid()),
                confirmed_event(),
                paid_event(),
            ])
            .when_async(ReservationCommand::Expire)
            .await,
        "already_paid",
    );
}

#[tokio::test]
async fn expiring_twice_expires_nothing_twice() {
    expect_refusal(
        framework_at(guide_now() + Duration::minutes(90))
            .given(vec![
                requested_event(prepaid()),
                confirmed_event(),
                expired_event(),
            ])
            .when_async(ReservationCommand::Expire)
            .await,
        "already_expired",
    );
}

#[tokio::test]
async fn cancels_some_days() {
    framework_at(guide_now())
        .given(vec![requested_event(prepaid()), confirmed_event()])
        .when_async(ReservationCommand::Cancel {
            actor: family(),
            days: Some(vec![d("2017-01-31")]),
        })
        .await
        .then_expect_events(vec![ReservationEvent::DaysCancelled(DaysCancelled {
            cancelled_at: guide_now(),
            days: vec![d("2017-01-31")],
            amount: dec!(4.15),
            remaining_total: dec!(12.45),
            reservation_cancelled: false,
            credited: dec!(0),
            late: None,
        })]);
}

#[tokio::test]
async fn cancelling_every_day_cancels_the_reservation() {
    framework_at(guide_now())
        .given(vec![requested_event(prepaid()), confirmed_event()])
        .when_async(ReservationCommand::Cancel {
            actor: family(),
            days: None,
        })
        .await
        .then_expect_events(vec![ReservationEvent::DaysCancelled(DaysCancelled {
            cancelled_at: guide_now(),
            days: guide_days(),
            amount: dec!(16.60),
            remaining_total: dec!(0),
            reservation_cancelled: true,
            credited: dec!(0),
            late: None,
        })]);
}

#[tokio::test]
async fn refuses_to_cancel_what_is_already_cancelled() {
    let cancelled = ReservationEvent::DaysCancelled(DaysCancelled {
        cancelled_at: guide_now(),
        days: guide_days(),
        amount: dec!(16.60),
        remaining_total: dec!(0),
        reservation_cancelled: true,
        credited: dec!(0),
        late: None,
    });
    expect_refusal(
        framework_at(guide_now())
            .given(vec![requested_event(prepaid()), cancelled])
            .when_async(ReservationCommand::Cancel {
                actor: family(),
                days: None,
            })
            .await,
        "already_cancelled",
    );
}

#[tokio::test]
async fn refuses_to_cancel_a_day_twice() {
    let one_cancelled = ReservationEvent::DaysCancelled(DaysCancelled {
        cancelled_at: guide_now(),
        days: vec![d("2017-01-31")],
        amount: dec!(4.15),
        remaining_total: dec!(12.45),
        reservation_cancelled: false,
        credited: dec!(0),
        late: None,
    });
    expect_refusal(
        framework_at(guide_now())
            .given(vec![requested_event(prepaid()), one_cancelled])
            .when_async(ReservationCommand::Cancel {
                actor: family(),
                days: Some(vec![d("2017-01-31")]),
            })
            .await,
        "unknown_days",
    );
}

#[tokio::test]
async fn refuses_to_cancel_an_expired_reservation() {
    expect_refusal(
        framework_at(guide_now() + Duration::minutes(90))
            .given(vec![
                requested_event(prepaid()),
                confirmed_event(),
                expired_event(),
            ])
            .when_async(ReservationCommand::Cancel {
                actor: family(),
                days: None,
            })
            .await,
        "already_expired",
    );
}

#[tokio::test]
async fn cancelling_follows_the_cancellation_cutoff_not_the_booking_one() {
    // Monday 23 January: booking closed on Tuesday 17 at 09:30, cancelling closes on Sunday 22
    // at 10:00 Paris (09:00 UTC).
    let after_booking_cutoff: DateTime<Utc> = "2017-01-17T09:00:00Z".parse().unwrap();
    framework_at(after_booking_cutoff)
        .given(vec![requested_event(prepaid()), confirmed_event()])
        .when_async(ReservationCommand::Cancel {
            actor: family(),
            days: Some(vec![d("2017-01-23")]),
        })
        .await
        .inspect_result()
        .expect("still cancellable after the booking cut-off");
    expect_refusal(
        framework_at("2017-01-22T09:00:00Z".parse().unwrap())
            .given(vec![requested_event(prepaid()), confirmed_event()])
            .when_async(ReservationCommand::Cancel {
                actor: family(),
                days: Some(vec![d("2017-01-23")]),
            })
            .await,
        "past_cutoff",
    );
}

fn with(services: FakeServices) -> TestFramework<Reservation> {
    TestFramework::with(Arc::new(services) as Services)
}

fn requested_of(events: &[ReservationEvent]) -> &ReservationRequested {
    match &events[0] {
        ReservationEvent::ReservationRequested(e) => e,
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn refuses_full_days_and_days_the_child_already_has() {
    let mut services = fake(guide_now(), prepaid());
    services.full.insert(d("2017-01-24"));
    services.already_booked.insert(d("2017-01-27"));
    let result = with(services)
        .given_no_previous_events()
        .when_async(request(guide_days()))
        .await;
    let error = result.inspect_result().unwrap_err();
    // All or nothing: the child's own meal is reported before the lack of places.
    assert_eq!(error.code(), "already_booked");
    assert_eq!(error.days(), Some(vec![d("2017-01-27")]));
    let mut services = fake(guide_now(), prepaid());
    services.full.insert(d("2017-01-24"));
    let error = with(services)
        .given_no_previous_events()
        .when_async(request(guide_days()))
        .await
        .inspect_result()
        .unwrap_err();
    assert_eq!(error.code(), "day_full");
    assert_eq!(error.days(), Some(vec![d("2017-01-24")]));
}

#[tokio::test]
async fn a_partial_request_books_what_it_can_and_records_the_rest() {
    let mut services = fake(guide_now(), prepaid());
    services.full.insert(d("2017-01-24"));
    let command = ReservationCommand::Request {
        reservation_id: RESERVATION,
        family_id: FAMILY,
        child_id: CHILD,
        period_id: PERIOD,
        days: RequestedDays::Explicit(vec![d("2017-01-23"), d("2017-01-24"), d("2017-01-25")]),
        partial: true,
    };
    let events = with(services)
        .given_no_previous_events()
        .when_async(command)
        .await
        .inspect_result()
        .unwrap();
    let requested = requested_of(&events);
    assert_eq!(
        requested.days.iter().map(|d| d.date).collect::<Vec<_>>(),
        vec![d("2017-01-23")]
    );
    assert_eq!(requested.total, dec!(4.15));
    assert_eq!(
        requested.refused,
        vec![
            RefusedDay {
                date: d("2017-01-24"),
                reason: DayRefusal::Full
            },
            RefusedDay {
                date: d("2017-01-25"),
                reason: DayRefusal::ClosedDay
            },
        ]
    );
}

#[tokio::test]
async fn a_weekday_selection_over_a_range_reports_every_day() {
    let command = ReservationCommand::Request {
        reservation_id: RESERVATION,
        family_id: FAMILY,
        child_id: CHILD,
        period_id: PERIOD,
        // Every Monday from 16 January to 27 February: the 16th is past its cut-off, the
        // 20th of February is in the winter holidays.
        days: RequestedDays::Selection(crate::domain::selection::DaySelection::Weekdays {
            weekdays: vec![Weekday::Mon],
            from: d("2017-01-16"),
            to: d("2017-02-27"),
        }),
        partial: true,
    };
    let events = framework_at(guide_now())
        .given_no_previous_events()
        .when_async(command)
        .await
        .inspect_result()
        .unwrap();
    let requested = requested_of(&events);
    let booked: Vec<String> = requested.days.iter().map(|d| d.date.to_string()).collect();
    assert_eq!(
        booked,
        ["2017-01-23", "2017-01-30", "2017-02-06", "2017-02-13"]
    );
    assert_eq!(
        requested.refused,
        vec![
            RefusedDay {
                date: d("2017-01-16"),
                reason: DayRefusal::PastCutoff
            },
            RefusedDay {
                date: d("2017-02-20"),
                reason: DayRefusal::ClosedDay
            },
            RefusedDay {
                date: d("2017-02-27"),
                reason: DayRefusal::ClosedDay
            },
        ]
    );
}

#[tokio::test]
async fn a_selection_with_nothing_bookable_is_refused_with_every_reason() {
    let command = ReservationCommand::Request {
        reservation_id: RESERVATION,
        family_id: FAMILY,
        child_id: CHILD,
        period_id: PERIOD,
        days: RequestedDays::Selection(crate::domain::selection::DaySelection::Week {
            date: d("2017-01-18"),
        }),
        partial: true,
    };
    let error = framework_at(guide_now())
        .given_no_previous_events()
        .when_async(command)
        .await
        .inspect_result()
        .unwrap_err();
    assert_eq!(error.code(), "no_bookable_day");
    assert_eq!(
        error.refused().unwrap().len(),
        4,
        "Monday, Tuesday, Thursday and Friday of that week"
    );
}

#[tokio::test]
async fn nothing_is_booked_before_bookings_open() {
    let mut services = fake(guide_now(), prepaid());
    services.opens = Some(d("2017-01-12").and_hms_opt(8, 0, 0).unwrap());
    let error = with(services)
        .given_no_previous_events()
        .when_async(request(guide_days()))
        .await
        .inspect_result()
        .unwrap_err();
    assert_eq!(error.code(), "bookings_not_open");
    let mut services = fake("2017-01-12T07:00:00Z".parse().unwrap(), prepaid());
    services.opens = Some(d("2017-01-12").and_hms_opt(8, 0, 0).unwrap());
    with(services)
        .given_no_previous_events()
        .when_async(request(guide_days()))
        .await
        .inspect_result()
        .expect("open at 08:00 Paris");
}

#[tokio::test]
async fn an_unconfirmed_request_holds_its_places_for_an_hour() {
    expect_refusal(
        framework_at(guide_now() + Duration::minutes(59))
            .given(vec![requested_event(prepaid())])
            .when_async(ReservationCommand::Expire)
            .await,
        "deadline_not_reached",
    );
    framework_at(guide_now() + Duration::minutes(60))
        .given(vec![requested_event(prepaid())])
        .when_async(ReservationCommand::Expire)
        .await
        .then_expect_events(vec![expired_event()]);
    expect_refusal(
        framework_at(guide_now() + Duration::minutes(60))
            .given(vec![requested_event(prepaid())])
            .when_async(ReservationCommand::Confirm { actor: family() })
            .await,
        "hold_expired",
    );
}

#[tokio::test]
async fn cancelling_paid_days_credits_the_family() {
    framework_at(guide_now() + Duration::minutes(10))
        .given(vec![
            requested_event(prepaid()),
            confirmed_event(),
            paid_event(),
        ])
        .when_async(ReservationCommand::Cancel {
            actor: family(),
            days: Some(vec![d("2017-01-31"), d("2017-01-27")]),
        })
        .await
        .then_expect_events(vec![ReservationEvent::DaysCancelled(DaysCancelled {
            cancelled_at: guide_now() + Duration::minutes(10),
            days: vec![d("2017-01-27"), d("2017-01-31")],
            amount: dec!(8.30),
            remaining_total: dec!(8.30),
            reservation_cancelled: false,
            credited: dec!(8.30),
            late: None,
        })]);
}

#[tokio::test]
async fn each_day_is_priced_by_the_list_in_effect_that_day() {
    let mut services = fake(guide_now(), prepaid());
    let list = PriceList::new(
        d("2017-01-27"),
        vec![
            Bracket {
                up_to: Some(500),
                unit_price: dec!(1.50),
            },
            Bracket {
                up_to: None,
                unit_price: dec!(4.97),
            },
        ],
    )
    .unwrap();
    services.prices = DayPrices::new(dec!(4.15), vec![list], Some(450));
    let events = with(services)
        .given_no_previous_events()
        .when_async(request(guide_days()))
        .await
        .inspect_result()
        .unwrap();
    let requested = requested_of(&events);
    let prices: Vec<Decimal> = requested.days.iter().map(|d| d.unit_price).collect();
    assert_eq!(prices, [dec!(4.15), dec!(4.15), dec!(1.50), dec!(1.50)]);
    assert_eq!(requested.total, dec!(11.30));
}

/// Monday 23 January 2017 at 09:00, Paris: the 23rd is past its cancellation cut-off (the day
/// before at 10:00), the 24th is not.
fn morning_of_the_23rd() -> DateTime<Utc> {
    "2017-01-23T08:00:00Z".parse().unwrap()
}

#[tokio::test]
async fn past_the_cut_off_the_family_cannot_cancel() {
    expect_refusal(
        framework_at(morning_of_the_23rd())
            .given(vec![
                requested_event(prepaid()),
                confirmed_event(),
                paid_event(),
            ])
            .when_async(ReservationCommand::Cancel {
                actor: family(),
                days: Some(vec![d("2017-01-23")]),
            })
            .await,
        "past_cutoff",
    );
}

#[tokio::test]
async fn staff_cancel_late_for_a_strike_and_a_paid_late_day_is_refunded() {
    framework_at(morning_of_the_23rd())
        .given(vec![
            requested_event(prepaid()),
            confirmed_event(),
            paid_event(),
        ])
        .when_async(ReservationCommand::CancelLate {
            days: Some(vec![d("2017-01-23"), d("2017-01-24")]),
            reason: LateReason::Strike,
        })
        .await
        .then_expect_events(vec![ReservationEvent::DaysCancelled(DaysCancelled {
            cancelled_at: morning_of_the_23rd(),
            days: vec![d("2017-01-23"), d("2017-01-24")],
            amount: dec!(8.30),
            remaining_total: dec!(8.30),
            reservation_cancelled: false,
            credited: dec!(8.30),
            // Only the 23rd needed the grant: the 24th was still the family's to cancel.
            late: Some(LateCancellationGranted {
                days: vec![d("2017-01-23")],
                reason: LateReason::Strike,
                outcome: LateOutcome::Refund,
                amount: dec!(4.15),
            }),
        })]);
}

#[tokio::test]
async fn a_medical_certificate_for_an_unpaid_day_gives_nothing_back() {
    framework_at(morning_of_the_23rd())
        .given(vec![requested_event(prepaid()), confirmed_event()])
        .when_async(ReservationCommand::CancelLate {
            days: Some(vec![d("2017-01-23")]),
            reason: LateReason::MedicalCertificate,
        })
        .await
        .then_expect_events(vec![ReservationEvent::DaysCancelled(DaysCancelled {
            cancelled_at: morning_of_the_23rd(),
            days: vec![d("2017-01-23")],
            amount: dec!(4.15),
            remaining_total: dec!(12.45),
            reservation_cancelled: false,
            credited: dec!(0),
            late: Some(LateCancellationGranted {
                days: vec![d("2017-01-23")],
                reason: LateReason::MedicalCertificate,
                outcome: LateOutcome::Nothing,
                amount: dec!(0),
            }),
        })]);
}

#[tokio::test]
async fn a_staff_cancellation_before_the_cut_off_grants_nothing() {
    framework_at(guide_now())
        .given(vec![
            requested_event(prepaid()),
            confirmed_event(),
            paid_event(),
        ])
        .when_async(ReservationCommand::CancelLate {
            days: Some(vec![d("2017-01-31")]),
            reason: LateReason::Closure,
        })
        .await
        .then_expect_events(vec![ReservationEvent::DaysCancelled(DaysCancelled {
            cancelled_at: guide_now(),
            days: vec![d("2017-01-31")],
            amount: dec!(4.15),
            remaining_total: dec!(12.45),
            reservation_cancelled: false,
            credited: dec!(4.15),
            late: None,
        })]);
}

#[test]
fn a_1_1_cancellation_reads_as_one_without_a_grant() {
    let stored = serde_json::json!({"DaysCancelled": {"cancelled_at": "2017-01-12T10:00:00Z",
        "days": ["2017-01-23"], "amount": "4.15", "remaining_total": "0",
        "reservation_cancelled": true, "credited": "4.15"}});
    match serde_json::from_value::<ReservationEvent>(stored).unwrap() {
        ReservationEvent::DaysCancelled(e) => assert_eq!(e.late, None),
        other => panic!("unexpected {other:?}"),
    }
}
