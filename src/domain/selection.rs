//! The bulk choices of the second guide's calendar ("+ cette semaine", "+ tous les lundis",
//! "+ tous les jours de l'année") as sets of dates.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::period::{PeriodRules, Weekday};

/// At most this many days in a weekday range: a school year and a bit.
pub const MAX_RANGE_DAYS: i64 = 400;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DaySelection {
    /// These weekdays between two dates ("tous les lundis et jeudis").
    Weekdays {
        weekdays: Vec<Weekday>,
        from: NaiveDate,
        to: NaiveDate,
    },
    /// The canteen's opening days of the week that contains `date` ("cette semaine").
    Week { date: NaiveDate },
    /// Every opening day of the period ("tous les jours de l'année").
    WholePeriod,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SelectionError {
    #[error("`to` is before `from`")]
    Reversed,
    #[error("a range of at most {MAX_RANGE_DAYS} days")]
    TooLong,
    #[error("choose at least one weekday")]
    NoWeekday,
}

impl DaySelection {
    /// The dates chosen, in order. Days the canteen does not serve (closures, dates outside
    /// the period) stay in: the booking reports them rather than dropping them silently.
    pub fn expand(&self, rules: &PeriodRules) -> Result<Vec<NaiveDate>, SelectionError> {
        let opening = |d: &NaiveDate| {
            rules
                .opening_days
                .iter()
                .any(|w| w.to_chrono() == d.weekday())
        };
        Ok(match self {
            DaySelection::Weekdays { weekdays, from, to } => {
                if to < from {
                    return Err(SelectionError::Reversed);
                }
                if (*to - *from).num_days() >= MAX_RANGE_DAYS {
                    return Err(SelectionError::TooLong);
                }
                if weekdays.is_empty() {
                    return Err(SelectionError::NoWeekday);
                }
                from.iter_days()
                    .take_while(|d| d <= to)
                    .filter(|d| weekdays.iter().any(|w| w.to_chrono() == d.weekday()))
                    .collect()
            }
            DaySelection::Week { date } => {
                let monday = *date - Duration::days(date.weekday().num_days_from_monday() as i64);
                (0..7)
                    .map(|i| monday + Duration::days(i))
                    .filter(opening)
                    .collect()
            }
            DaySelection::WholePeriod => rules
                .from
                .iter_days()
                .take_while(|d| *d <= rules.to)
                .filter(opening)
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::period::{BookingCutoff, LocalTime};
    use proptest::prelude::*;

    const WEEKDAYS: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    fn rules(from: NaiveDate, len: i64, opening: Vec<Weekday>) -> PeriodRules {
        PeriodRules {
            from,
            to: from + Duration::days(len),
            opening_days: opening,
            closures: vec![],
            booking_cutoff: BookingCutoff::DaysBefore {
                days: 1,
                time: LocalTime::parse("10:00").unwrap(),
            },
            cancellation_cutoff: None,
            bookings_open_at: None,
        }
    }

    /// The plain reference: walk a window of days and keep what each choice means in words.
    fn reference(selection: &DaySelection, rules: &PeriodRules) -> Vec<NaiveDate> {
        let mut days = Vec::new();
        let start = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        for i in 0..20_000 {
            let day = start + Duration::days(i);
            let weekday = WEEKDAYS[day.weekday().num_days_from_monday() as usize];
            let keep = match selection {
                DaySelection::Weekdays { weekdays, from, to } => {
                    day >= *from && day <= *to && weekdays.contains(&weekday)
                }
                DaySelection::Week { date } => {
                    day.iso_week() == date.iso_week() && rules.opening_days.contains(&weekday)
                }
                DaySelection::WholePeriod => {
                    day >= rules.from && day <= rules.to && rules.opening_days.contains(&weekday)
                }
            };
            if keep {
                days.push(day);
            }
        }
        days
    }

    fn date() -> impl Strategy<Value = NaiveDate> {
        (0i64..9000).prop_map(|n| NaiveDate::from_ymd_opt(2001, 1, 1).unwrap() + Duration::days(n))
    }

    fn weekdays() -> impl Strategy<Value = Vec<Weekday>> {
        proptest::sample::subsequence(WEEKDAYS.to_vec(), 1..=7)
    }

    fn selection() -> impl Strategy<Value = DaySelection> {
        prop_oneof![
            (weekdays(), date(), 0i64..MAX_RANGE_DAYS).prop_map(|(weekdays, from, len)| {
                DaySelection::Weekdays {
                    weekdays,
                    from,
                    to: from + Duration::days(len),
                }
            }),
            date().prop_map(|date| DaySelection::Week { date }),
            Just(DaySelection::WholePeriod),
        ]
    }

    proptest! {
        #[test]
        fn expansion_matches_the_reference(selection in selection(), from in date(), len in 0i64..380, opening in weekdays()) {
            let rules = rules(from, len, opening);
            prop_assert_eq!(selection.expand(&rules).unwrap(), reference(&selection, &rules));
        }
    }

    #[test]
    fn refuses_unusable_ranges() {
        let r = rules(
            NaiveDate::from_ymd_opt(2017, 1, 2).unwrap(),
            10,
            vec![Weekday::Mon],
        );
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let reversed = DaySelection::Weekdays {
            weekdays: vec![Weekday::Mon],
            from: d("2017-02-01"),
            to: d("2017-01-01"),
        };
        assert_eq!(reversed.expand(&r), Err(SelectionError::Reversed));
        let long = DaySelection::Weekdays {
            weekdays: vec![Weekday::Mon],
            from: d("2017-01-01"),
            to: d("2019-01-01"),
        };
        assert_eq!(long.expand(&r), Err(SelectionError::TooLong));
        let none = DaySelection::Weekdays {
            weekdays: vec![],
            from: d("2017-01-01"),
            to: d("2017-01-31"),
        };
        assert_eq!(none.expand(&r), Err(SelectionError::NoWeekday));
    }
}
