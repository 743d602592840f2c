//! The rules of a booking period (a school year of one restaurant): which days exist, and until
//! when each can be booked. Deadlines are stated in Europe/Paris time, as parents read them, and
//! compared in UTC.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::tariff::DayPrices;

mod booking_cutoff;
mod paris_time;

pub use booking_cutoff::BookingCutoff;
pub use paris_time::{month_bounds, paris_day, paris_to_utc};

/// A weekday as the contract spells it (`"mon"` … `"sun"`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub fn to_chrono(self) -> chrono::Weekday {
        match self {
            Weekday::Mon => chrono::Weekday::Mon,
            Weekday::Tue => chrono::Weekday::Tue,
            Weekday::Wed => chrono::Weekday::Wed,
            Weekday::Thu => chrono::Weekday::Thu,
            Weekday::Fri => chrono::Weekday::Fri,
            Weekday::Sat => chrono::Weekday::Sat,
            Weekday::Sun => chrono::Weekday::Sun,
        }
    }

    pub fn french_name(self) -> &'static str {
        match self {
            Weekday::Mon => "lundi",
            Weekday::Tue => "mardi",
            Weekday::Wed => "mercredi",
            Weekday::Thu => "jeudi",
            Weekday::Fri => "vendredi",
            Weekday::Sat => "samedi",
            Weekday::Sun => "dimanche",
        }
    }
}

/// A local wall-clock time written `HH:MM`, as in the contract and the guides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalTime(pub NaiveTime);

impl LocalTime {
    pub fn parse(text: &str) -> Option<Self> {
        NaiveTime::parse_from_str(text, "%H:%M").ok().map(LocalTime)
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl Serialize for LocalTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        LocalTime::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("invalid time {text:?}, expected HH:MM"))
        })
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ServiceHours {
    pub label: String,
    pub start: LocalTime,
    pub end: LocalTime,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Closure {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(default)]
    pub label: String,
}

impl Closure {
    /// France's public holidays between two dates, each a one-day closure named after it.
    pub fn public_holidays(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = Closure> {
        super::holidays::public_holidays_between(from, to)
            .into_iter()
            .map(|(day, name)| Closure {
                from: day,
                to: day,
                label: name.to_string(),
            })
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum PaymentMode {
    /// Places are held `hold_minutes` after confirmation, then released unless paid.
    Prepaid {
        #[serde(default = "default_hold_minutes")]
        hold_minutes: u32,
    },
    /// Booked at confirmation, invoiced monthly.
    Postpaid,
}

fn default_hold_minutes() -> u32 {
    60
}

/// Why one day cannot be booked, in the order a refusal is reported.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum DayRefusal {
    OutsidePeriod,
    ClosedDay,
    NotOpen,
    PastCutoff,
    AlreadyBooked,
    Full,
}

impl DayRefusal {
    /// The error code of the HTTP contract.
    pub fn code(self) -> &'static str {
        match self {
            DayRefusal::OutsidePeriod => "outside_period",
            DayRefusal::ClosedDay => "closed_day",
            DayRefusal::NotOpen => "bookings_not_open",
            DayRefusal::PastCutoff => "past_cutoff",
            DayRefusal::AlreadyBooked => "already_booked",
            DayRefusal::Full => "day_full",
        }
    }

    /// The outcome of the day in a booking's answer.
    pub fn outcome(self) -> &'static str {
        match self {
            DayRefusal::OutsidePeriod => "outside_period",
            DayRefusal::ClosedDay => "closed",
            DayRefusal::NotOpen => "not_open",
            DayRefusal::PastCutoff => "past_cutoff",
            DayRefusal::AlreadyBooked => "already_booked",
            DayRefusal::Full => "full",
        }
    }

    /// What parents read in the recap.
    pub fn french(self) -> &'static str {
        match self {
            DayRefusal::OutsidePeriod => "Hors période",
            DayRefusal::ClosedDay => "Restaurant fermé",
            DayRefusal::NotOpen => "Réservations pas encore ouvertes",
            DayRefusal::PastCutoff => "Date limite de réservation dépassée",
            DayRefusal::AlreadyBooked => "Déjà réservé",
            DayRefusal::Full => "Complet",
        }
    }
}

/// A period is a school year, two at most: a longer one would make a whole-period booking, its
/// event and its cancellation unbounded.
pub const MAX_PERIOD_MONTHS: u32 = 24;

/// Whether `from`..=`to` is within [`MAX_PERIOD_MONTHS`].
pub fn period_length_allowed(from: NaiveDate, to: NaiveDate) -> bool {
    from.checked_add_months(chrono::Months::new(MAX_PERIOD_MONTHS))
        .is_some_and(|limit| to <= limit)
}

/// What decides whether a day can be booked in a period.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PeriodRules {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub opening_days: Vec<Weekday>,
    #[serde(default)]
    pub closures: Vec<Closure>,
    pub booking_cutoff: BookingCutoff,
    /// Until when a booked day can be cancelled; the booking cut-off when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_cutoff: Option<BookingCutoff>,
    /// When bookings open (Paris time): the second guide's year opens on 15 July.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookings_open_at: Option<NaiveDateTime>,
}

impl PeriodRules {
    pub fn effective_cancellation_cutoff(&self) -> &BookingCutoff {
        self.cancellation_cutoff
            .as_ref()
            .unwrap_or(&self.booking_cutoff)
    }

    /// Whether the canteen serves on `day` at all, regardless of time.
    pub fn serves_on(&self, day: NaiveDate) -> Result<(), DayRefusal> {
        if day < self.from || day > self.to {
            return Err(DayRefusal::OutsidePeriod);
        }
        let weekday = day.weekday();
        if !self.opening_days.iter().any(|d| d.to_chrono() == weekday) {
            return Err(DayRefusal::ClosedDay);
        }
        if self.closures.iter().any(|c| c.from <= day && day <= c.to) {
            return Err(DayRefusal::ClosedDay);
        }
        Ok(())
    }

    /// Whether `day`'s weekday is one the canteen opens on (a Wednesday without service is not).
    pub fn opens_on_weekday(&self, day: NaiveDate) -> bool {
        let weekday = day.weekday();
        self.opening_days.iter().any(|d| d.to_chrono() == weekday)
    }

    /// The closure that closes `day`, if one does ("Vacances de Noël", a public holiday).
    pub fn closure_on(&self, day: NaiveDate) -> Option<&Closure> {
        self.closures.iter().find(|c| c.from <= day && day <= c.to)
    }

    /// Whether `day` can be booked at `now`.
    pub fn check_bookable(&self, day: NaiveDate, now: DateTime<Utc>) -> Result<(), DayRefusal> {
        self.serves_on(day)?;
        if self
            .bookings_open_at
            .is_some_and(|open| now < paris_to_utc(open))
        {
            return Err(DayRefusal::NotOpen);
        }
        if now >= self.booking_cutoff.deadline_for(day) {
            return Err(DayRefusal::PastCutoff);
        }
        Ok(())
    }

    /// Every day the canteen serves, in order.
    pub fn service_days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.from
            .iter_days()
            .take_while(|d| *d <= self.to)
            .filter(|d| self.serves_on(*d).is_ok())
    }
}

/// What a reservation remembers of its child at request time.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ChildRef {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub meal_option: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RestaurantRef {
    pub id: Uuid,
    pub name: String,
}

/// What a reservation remembers of its period at request time, so that no projection has to
/// read reference tables to rebuild.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PeriodRef {
    pub id: Uuid,
    pub activity: String,
    pub label: String,
    pub service: ServiceHours,
    pub payment: PaymentMode,
    pub booking_cutoff: BookingCutoff,
    /// Since ReservationRequested 1.1; 1.0 events are upcast with the booking cut-off.
    pub cancellation_cutoff: BookingCutoff,
}

/// Everything the domain needs to decide a booking request, as the services hand it over.
#[derive(Clone, Debug, PartialEq)]
pub struct BookingContext {
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    pub child: ChildRef,
    pub restaurant: RestaurantRef,
    pub period: PeriodRef,
    pub rules: PeriodRules,
    /// This family's price of each meal day in this period.
    pub prices: DayPrices,
    /// Places per day for the period's service, unless a day says otherwise.
    pub capacity: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn tuesday_rule() -> BookingCutoff {
        BookingCutoff::WeekdayOfPreviousWeek {
            weekday: Weekday::Tue,
            time: LocalTime::parse("09:30").unwrap(),
        }
    }

    #[test]
    fn tuesday_of_previous_week_in_winter_time() {
        // Monday 23 January 2017 → Tuesday 17 January 09:30 Paris = 08:30 UTC.
        let deadline = tuesday_rule().deadline_for(d("2017-01-23"));
        assert_eq!(
            deadline,
            "2017-01-17T08:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        // Tuesday 31 January belongs to the next week: Tuesday 24 January.
        let deadline = tuesday_rule().deadline_for(d("2017-01-31"));
        assert_eq!(
            deadline,
            "2017-01-24T08:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn days_before_in_summer_time() {
        let rule = BookingCutoff::DaysBefore {
            days: 2,
            time: LocalTime::parse("10:00").unwrap(),
        };
        // 15 May 2025 → 13 May 10:00 Paris = 08:00 UTC (summer time).
        assert_eq!(
            rule.deadline_for(d("2025-05-15")),
            "2025-05-13T08:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn skipped_spring_time_reads_as_first_instant_after_the_gap() {
        let local = d("2017-03-26").and_hms_opt(2, 30, 0).unwrap();
        assert_eq!(
            paris_to_utc(local),
            "2017-03-26T01:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn month_bounds_cover_the_whole_month_and_refuse_anything_else() {
        assert_eq!(
            month_bounds("2017-01"),
            Some((d("2017-01-01"), d("2017-01-31")))
        );
        assert_eq!(
            month_bounds("2016-12"),
            Some((d("2016-12-01"), d("2016-12-31")))
        );
        assert_eq!(
            month_bounds("2016-02"),
            Some((d("2016-02-01"), d("2016-02-29")))
        );
        for bad in ["2017-13", "2017-1", "2017-01-01", "janvier", ""] {
            assert_eq!(month_bounds(bad), None, "{bad}");
        }
    }

    #[test]
    fn sentence_matches_the_guide() {
        assert_eq!(
            tuesday_rule().sentence(),
            "Vous devez réserver avant le mardi de la semaine précédente, 09:30"
        );
    }

    #[test]
    fn opening_days_and_closures() {
        let rules = PeriodRules {
            from: d("2016-09-01"),
            to: d("2017-07-07"),
            opening_days: vec![Weekday::Mon, Weekday::Tue, Weekday::Thu, Weekday::Fri],
            closures: vec![Closure {
                from: d("2016-12-17"),
                to: d("2017-01-02"),
                label: "Noël".into(),
            }],
            booking_cutoff: tuesday_rule(),
            cancellation_cutoff: None,
            bookings_open_at: None,
        };
        assert_eq!(rules.serves_on(d("2017-01-23")), Ok(()));
        assert_eq!(rules.serves_on(d("2017-01-25")), Err(DayRefusal::ClosedDay)); // Wednesday
        assert_eq!(rules.serves_on(d("2016-12-20")), Err(DayRefusal::ClosedDay)); // Noël
        assert_eq!(
            rules.serves_on(d("2017-07-10")),
            Err(DayRefusal::OutsidePeriod)
        );
        let now = "2017-01-17T08:30:00Z".parse().unwrap();
        assert_eq!(
            rules.check_bookable(d("2017-01-23"), now),
            Err(DayRefusal::PastCutoff)
        );
        assert_eq!(rules.check_bookable(d("2017-01-31"), now), Ok(()));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// The last Sunday of a month, at 01:00 UTC: when the EU changes its clocks.
        fn change_instant(year: i32, month: u32) -> NaiveDateTime {
            let mut day = NaiveDate::from_ymd_opt(year, month, 31).unwrap();
            while day.weekday() != chrono::Weekday::Sun {
                day = day.pred_opt().unwrap();
            }
            day.and_hms_opt(1, 0, 0).unwrap()
        }

        fn summer_at(utc: NaiveDateTime) -> bool {
            utc >= change_instant(utc.year(), 3) && utc < change_instant(utc.year(), 10)
        }

        /// Paris wall time to UTC from the EU rule alone (not chrono-tz): the earlier reading
        /// when ambiguous, the first instant after the gap when skipped.
        fn reference_to_utc(local: NaiveDateTime) -> NaiveDateTime {
            let summer = local - Duration::hours(2);
            let winter = local - Duration::hours(1);
            if summer_at(summer) {
                summer
            } else if !summer_at(winter) {
                winter
            } else {
                reference_to_utc(local + Duration::hours(1))
            }
        }

        /// The deadline's local date, by walking back day by day.
        fn reference_deadline_date(rule: &BookingCutoff, day: NaiveDate) -> NaiveDate {
            match rule {
                BookingCutoff::DaysBefore { days, .. } => {
                    let mut d = day;
                    for _ in 0..*days {
                        d = d.pred_opt().unwrap();
                    }
                    d
                }
                BookingCutoff::WeekdayOfPreviousWeek { weekday, .. } => {
                    let mut d = day;
                    while d.weekday() != chrono::Weekday::Mon {
                        d = d.pred_opt().unwrap();
                    }
                    for _ in 0..7 {
                        d = d.pred_opt().unwrap();
                    }
                    while d.weekday() != weekday.to_chrono() {
                        d = d.succ_opt().unwrap();
                    }
                    d
                }
            }
        }

        const WEEKDAYS: [Weekday; 7] = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];

        fn rule() -> impl Strategy<Value = BookingCutoff> {
            // Times from 00:00 to 03:59 are over-represented: they cross the clock changes.
            let time = prop_oneof![(0u32..4, 0u32..60), (0u32..24, 0u32..60)]
                .prop_map(|(h, m)| LocalTime(NaiveTime::from_hms_opt(h, m, 0).unwrap()));
            prop_oneof![
                (0usize..7, time.clone()).prop_map(|(w, time)| {
                    BookingCutoff::WeekdayOfPreviousWeek {
                        weekday: WEEKDAYS[w],
                        time,
                    }
                }),
                (0u32..15, time).prop_map(|(days, time)| BookingCutoff::DaysBefore { days, time }),
            ]
        }

        /// Days near the clock changes of 2016-2030, and any day.
        fn day() -> impl Strategy<Value = NaiveDate> {
            prop_oneof![
                (2016i32..2031, prop::bool::ANY, 0i64..20).prop_map(|(y, spring, offset)| {
                    change_instant(y, if spring { 3 } else { 10 }).date()
                        + Duration::days(offset - 5)
                }),
                (0i64..6000)
                    .prop_map(|n| NaiveDate::from_ymd_opt(2016, 1, 1).unwrap() + Duration::days(n)),
            ]
        }

        /// A rule and a day whose deadline falls on a clock-change Sunday, in the small hours.
        fn deadline_on_a_change() -> impl Strategy<Value = (BookingCutoff, NaiveDate)> {
            (
                2016i32..2031,
                prop::bool::ANY,
                0u32..15,
                0u32..5,
                0u32..60,
                prop::bool::ANY,
                1i64..8,
            )
                .prop_map(|(year, spring, days, hour, minute, weekly, offset)| {
                    let sunday = change_instant(year, if spring { 3 } else { 10 }).date();
                    let time = LocalTime(NaiveTime::from_hms_opt(hour, minute, 0).unwrap());
                    if weekly {
                        // Any day of the following week has that Sunday as "Sunday of the week before".
                        (
                            BookingCutoff::WeekdayOfPreviousWeek {
                                weekday: Weekday::Sun,
                                time,
                            },
                            sunday + Duration::days(offset),
                        )
                    } else {
                        (
                            BookingCutoff::DaysBefore { days, time },
                            sunday + Duration::days(days as i64),
                        )
                    }
                })
        }

        fn rule_and_day() -> impl Strategy<Value = (BookingCutoff, NaiveDate)> {
            prop_oneof![(rule(), day()), deadline_on_a_change()]
        }

        proptest! {
            #[test]
            fn deadlines_agree_with_the_reference((rule, day) in rule_and_day()) {
                let time = match &rule {
                    BookingCutoff::WeekdayOfPreviousWeek { time, .. } | BookingCutoff::DaysBefore { time, .. } => time.0,
                };
                let local = reference_deadline_date(&rule, day).and_time(time);
                prop_assert_eq!(rule.deadline_for(day).naive_utc(), reference_to_utc(local));
            }

            #[test]
            fn a_day_is_bookable_exactly_before_its_deadline((rule, day) in rule_and_day(), offset_minutes in -3000i64..3000) {
                let rules = PeriodRules {
                    from: day - Duration::days(400),
                    to: day + Duration::days(400),
                    opening_days: WEEKDAYS.to_vec(),
                    closures: vec![],
                    booking_cutoff: rule.clone(),
                    cancellation_cutoff: None,
                    bookings_open_at: None,
                };
                let deadline = rule.deadline_for(day);
                let now = deadline + Duration::minutes(offset_minutes);
                let expected = if now < deadline { Ok(()) } else { Err(DayRefusal::PastCutoff) };
                prop_assert_eq!(rules.check_bookable(day, now), expected);
            }
        }
    }
}
