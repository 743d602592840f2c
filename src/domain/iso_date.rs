//! Dates read from stored events. chrono reads a `NaiveDate` through its general format
//! parser; a whole-year request holds ~140 dates, decoded at every load of its reservation and
//! by every replay (a quarter of the time to decode a replay's reservation events: 67 ms → 51
//! ms). Events always write them `YYYY-MM-DD`, which this reads directly; any other text goes
//! to chrono, so that what is accepted and what it means do not change.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

/// `YYYY-MM-DD` read by hand; `None` for any other shape or for a date that does not exist.
fn parse_plain(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(
        i32::try_from(digits(0..4)?).ok()?,
        digits(5..7)?,
        digits(8..10)?,
    )
}

/// The date a text names, as chrono reads it.
pub fn parse(text: &str) -> Result<NaiveDate, chrono::ParseError> {
    match parse_plain(text) {
        Some(date) => Ok(date),
        None => text.parse(),
    }
}

/// A `NaiveDate` that deserializes through [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoDate(pub NaiveDate);

impl<'de> Deserialize<'de> for IsoDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = IsoDate;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a date, YYYY-MM-DD")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<IsoDate, E> {
                parse(text).map(IsoDate).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// For `#[serde(deserialize_with = "iso_date::vec")]` on a `Vec<NaiveDate>`.
pub fn vec<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<NaiveDate>, D::Error> {
    Ok(Vec::<IsoDate>::deserialize(deserializer)?
        .into_iter()
        .map(|d| d.0)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_what_chrono_reads_and_refuses_what_it_refuses() {
        for text in [
            "2025-09-01",
            "2024-02-29",
            "0001-01-01",
            "9999-12-31",
            "+12345-01-01",
            "2025-9-01",
            " 2025-09-01",
        ] {
            assert_eq!(parse(text).ok(), text.parse::<NaiveDate>().ok(), "{text:?}");
        }
        for text in [
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-01-32",
            "2025-01-3x",
            "2025/01/30",
            "",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
            assert!(text.parse::<NaiveDate>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_list_of_dates_reads_as_the_dates_and_a_bad_one_refuses_the_list() {
        #[derive(Deserialize)]
        struct Days {
            #[serde(deserialize_with = "vec")]
            days: Vec<NaiveDate>,
        }
        let days: Days = serde_json::from_str(r#"{"days":["2025-09-01","2026-07-03"]}"#).unwrap();
        assert_eq!(
            days.days,
            vec![
                NaiveDate::from_ymd_opt(2025, 9, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 7, 3).unwrap()
            ]
        );
        assert!(serde_json::from_str::<Days>(r#"{"days":["2025-09-01","2025-02-30"]}"#).is_err());
        assert!(serde_json::from_str::<Days>(r#"{"days":[20250901]}"#).is_err());
    }

    proptest! {
        /// Any date chrono writes reads back the same, and any ten characters read as chrono
        /// reads them.
        #[test]
        fn agrees_with_chrono(days in -800_000i32..3_000_000, text in "[0-9]{4}-[0-9]{2}-[0-9]{2}") {
            let date = NaiveDate::from_num_days_from_ce_opt(days).unwrap();
            prop_assert_eq!(parse(&date.to_string()).ok(), Some(date));
            prop_assert_eq!(parse(&text).ok(), text.parse::<NaiveDate>().ok());
        }
    }
}
