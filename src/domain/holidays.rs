//! France's public holidays (jours fériés), for filling a school year's closures.

use chrono::{Datelike, Duration, NaiveDate};

/// Easter Sunday (Gregorian computus of Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("computus yields a valid date")
}

/// The public holidays of a calendar year, with their French names.
pub fn public_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let fixed = |m, d| NaiveDate::from_ymd_opt(year, m, d).expect("fixed holiday");
    let easter = easter_sunday(year);
    let mut days = vec![
        (fixed(1, 1), "Jour de l'an"),
        (easter + Duration::days(1), "Lundi de Pâques"),
        (fixed(5, 1), "Fête du Travail"),
        (fixed(5, 8), "Victoire 1945"),
        (easter + Duration::days(39), "Ascension"),
        (easter + Duration::days(50), "Lundi de Pentecôte"),
        (fixed(7, 14), "Fête nationale"),
        (fixed(8, 15), "Assomption"),
        (fixed(11, 1), "Toussaint"),
        (fixed(11, 11), "Armistice 1918"),
        (fixed(12, 25), "Noël"),
    ];
    days.sort();
    days
}

/// The public holidays between two dates (a school year spans two calendar years).
pub fn public_holidays_between(from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, &'static str)> {
    (from.year()..=to.year())
        .flat_map(public_holidays)
        .filter(|(d, _)| from <= *d && *d <= to)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_dates() {
        assert_eq!(
            easter_sunday(2017),
            NaiveDate::from_ymd_opt(2017, 4, 16).unwrap()
        );
        assert_eq!(
            easter_sunday(2025),
            NaiveDate::from_ymd_opt(2025, 4, 20).unwrap()
        );
        assert_eq!(
            easter_sunday(2026),
            NaiveDate::from_ymd_opt(2026, 4, 5).unwrap()
        );
    }

    #[test]
    fn school_year_2016_2017_holidays() {
        let from = NaiveDate::from_ymd_opt(2016, 9, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2017, 7, 7).unwrap();
        let days: Vec<String> = public_holidays_between(from, to)
            .iter()
            .map(|(d, _)| d.to_string())
            .collect();
        assert_eq!(
            days,
            [
                "2016-11-01",
                "2016-11-11",
                "2016-12-25",
                "2017-01-01",
                "2017-04-17",
                "2017-05-01",
                "2017-05-08",
                "2017-05-25",
                "2017-06-05"
            ]
        );
    }
}
