//! How a request's days are written in its event since `ReservationRequested` 2.0: one entry per
//! run of consecutive days that share their service, meal option and price, with the run's dates.
//! A whole-year request repeated the same three fields for each of its ~140 days (~80 bytes a
//! day); a run says them once, and a day costs its date. In memory the days stay one
//! `BookedDay` each, in the same order, so that nothing but the stored text changes.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::BookedDay;

#[derive(Serialize)]
struct RunOut<'a> {
    service: &'a str,
    meal_option: &'a str,
    unit_price: &'a Decimal,
    dates: Vec<NaiveDate>,
}

#[derive(Deserialize)]
struct RunIn {
    service: std::sync::Arc<str>,
    meal_option: std::sync::Arc<str>,
    unit_price: Decimal,
    #[serde(deserialize_with = "crate::domain::iso_date::vec")]
    dates: Vec<NaiveDate>,
}

impl RunOut<'_> {
    /// Same price as written: 4.97 and 4.970 are equal numbers but different texts, and a
    /// stored event reads back exactly as it was written.
    fn takes(&self, day: &BookedDay) -> bool {
        *self.service == *day.service
            && *self.meal_option == *day.meal_option
            && *self.unit_price == day.unit_price
            && self.unit_price.scale() == day.unit_price.scale()
    }
}

pub fn serialize<S: Serializer>(days: &[BookedDay], serializer: S) -> Result<S::Ok, S::Error> {
    let mut runs: Vec<RunOut> = Vec::new();
    for day in days {
        match runs.last_mut() {
            Some(run) if run.takes(day) => run.dates.push(day.date),
            _ => runs.push(RunOut {
                service: &day.service,
                meal_option: &day.meal_option,
                unit_price: &day.unit_price,
                dates: vec![day.date],
            }),
        }
    }
    runs.serialize(serializer)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<BookedDay>, D::Error> {
    let runs = Vec::<RunIn>::deserialize(deserializer)?;
    let mut days = Vec::with_capacity(runs.iter().map(|r| r.dates.len()).sum());
    for run in runs {
        if run.dates.is_empty() {
            return Err(serde::de::Error::custom("a run of days without a date"));
        }
        days.extend(run.dates.into_iter().map(|date| BookedDay {
            date,
            service: run.service.clone(),
            meal_option: run.meal_option.clone(),
            unit_price: run.unit_price,
        }));
    }
    Ok(days)
}

/// The upcaster's half: a 1.x `days` array (one `BookedDay` object per day) as 2.0 runs, written
/// by the serializer above. A price keeps its text: a decimal keeps its scale.
pub fn runs_of_stored_days(days: Value) -> serde_json::Result<Value> {
    let days: Vec<BookedDay> = serde_json::from_value(days)?;
    serialize(&days, serde_json::value::Serializer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Holder {
        #[serde(with = "super")]
        days: Vec<BookedDay>,
    }

    fn day(date: &str, option: &str, price: Decimal) -> BookedDay {
        BookedDay {
            date: date.parse().unwrap(),
            service: "REPAS".into(),
            meal_option: option.into(),
            unit_price: price,
        }
    }

    #[test]
    fn a_run_says_its_service_option_and_price_once() {
        let holder = Holder {
            days: vec![
                day("2025-09-01", "standard", dec!(4.97)),
                day("2025-09-02", "standard", dec!(4.97)),
                day("2025-09-04", "standard", dec!(5.10)),
                day("2025-09-05", "standard", dec!(4.97)),
                day("2025-09-08", "standard", dec!(4.970)),
            ],
        };
        let text = serde_json::to_string(&holder).unwrap();
        assert_eq!(
            text,
            r#"{"days":[{"service":"REPAS","meal_option":"standard","unit_price":"4.97","dates":["2025-09-01","2025-09-02"]},{"service":"REPAS","meal_option":"standard","unit_price":"5.10","dates":["2025-09-04"]},{"service":"REPAS","meal_option":"standard","unit_price":"4.97","dates":["2025-09-05"]},{"service":"REPAS","meal_option":"standard","unit_price":"4.970","dates":["2025-09-08"]}]}"#
        );
        assert_eq!(serde_json::from_str::<Holder>(&text).unwrap(), holder);
    }

    #[test]
    fn a_run_without_a_date_is_refused() {
        let text = r#"{"days":[{"service":"REPAS","meal_option":"standard","unit_price":"4.97","dates":[]}]}"#;
        assert!(serde_json::from_str::<Holder>(text).is_err());
    }

    proptest! {
        /// Whatever the days, their order and their prices' scales, they read back as written.
        #[test]
        fn days_read_back_as_written(
            picks in proptest::collection::vec((0u32..300, 0usize..3, 0usize..4), 0..200)
        ) {
            let options = ["standard", "no_pork", "vegetarian"];
            let prices = [dec!(4.97), dec!(4.970), dec!(3.10), dec!(0)];
            let start = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
            let holder = Holder {
                days: picks
                    .iter()
                    .map(|&(offset, option, price)| BookedDay {
                        date: start + chrono::Days::new(offset.into()),
                        service: "REPAS".into(),
                        meal_option: options[option].into(),
                        unit_price: prices[price],
                    })
                    .collect(),
            };
            let value = serde_json::to_value(&holder).unwrap();
            let back: Holder = serde_json::from_value(value.clone()).unwrap();
            prop_assert_eq!(&back, &holder);
            for (a, b) in back.days.iter().zip(&holder.days) {
                prop_assert_eq!(a.unit_price.scale(), b.unit_price.scale());
            }
        }
    }
}
