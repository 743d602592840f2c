//! French spellings for the pages: amounts (`16,60 €`), dates (`lun. 23/01/2017`), Paris times,
//! and the words and signs of each status.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Paris;
use rust_decimal::Decimal;

use crate::domain::money::french_euros;
use crate::domain::payment::PaymentStatus;
use crate::domain::period::{PaymentMode, ServiceHours};
use crate::domain::reservation::{DayStatus, ReservationStatus};

/// An amount as parents read it: `4,97 €` (two decimals, a comma).
pub fn euros(amount: Decimal) -> String {
    french_euros(amount)
}

/// An amount as a form field is filled with, and read back: `16,60` (two decimals, a comma, no
/// sign).
pub fn amount_field(amount: Decimal) -> String {
    format!("{amount:.2}").replace('.', ",")
}

/// The estimate's line: `4 × 4,15 € = 16,60 €`.
pub fn estimate(quantity: usize, unit_price: Decimal) -> String {
    format!(
        "{quantity} × {} = {}",
        euros(unit_price),
        euros(unit_price * Decimal::from(quantity))
    )
}

/// How a period's meals are paid, as parents and staff read it.
pub fn payment_mode(mode: &PaymentMode) -> String {
    match mode {
        PaymentMode::Prepaid { hold_minutes } => format!(
            "En ligne, après confirmation : vous avez {hold_minutes} minutes pour payer, sinon la \
             réservation est annulée automatiquement."
        ),
        PaymentMode::Postpaid => "Facturé en fin de mois.".to_string(),
    }
}

/// A period's service as parents read it: `DÉJEUNER (11:45 – 13:30)`.
pub fn service(hours: &ServiceHours) -> String {
    format!("{} ({} – {})", hours.label, hours.start, hours.end)
}

pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

const SHORT_DAYS: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `lun. 23/01/2017`
pub fn day(d: NaiveDate) -> String {
    format!(
        "{} {}",
        SHORT_DAYS[d.weekday().num_days_from_monday() as usize],
        date(d)
    )
}

/// `janvier 2017`
pub fn month_name(d: NaiveDate) -> String {
    format!("{} {}", MONTHS[d.month0() as usize], d.year())
}

/// `15:38`, Paris time.
pub fn time(t: DateTime<Utc>) -> String {
    t.with_timezone(&Paris).format("%H:%M").to_string()
}

/// `11/01/2017 à 14:38`, Paris time.
pub fn date_time(t: DateTime<Utc>) -> String {
    t.with_timezone(&Paris)
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

/// The cart's countdown to a deadline, as of the page's time: `il reste 1 h 05 min`.
pub fn time_left(now: DateTime<Utc>, deadline: DateTime<Utc>) -> String {
    if deadline <= now {
        return "délai dépassé".into();
    }
    match (deadline - now).num_minutes() {
        0 => "il reste moins d'une minute".into(),
        minutes @ 1..=59 => format!("il reste {minutes} min"),
        minutes => format!("il reste {} h {:02} min", minutes / 60, minutes % 60),
    }
}

/// A reservation's state as the first guide's history shows it: a sign and its words, so that
/// the sign is never alone.
pub fn reservation_state(status: ReservationStatus) -> (&'static str, &'static str) {
    match status {
        ReservationStatus::Paid => ("✓", "Payée"),
        ReservationStatus::Confirmed => ("✓", "Confirmée"),
        ReservationStatus::Cancelled => ("✗", "Annulée"),
        ReservationStatus::Expired => ("✗", "Expirée (non payée à temps)"),
        ReservationStatus::AwaitingPayment => ("?", "En attente de paiement"),
        ReservationStatus::Requested => ("?", "En attente de confirmation"),
    }
}

/// A payment's state, in the words of its pages.
pub fn payment_state(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Pending => "en attente de votre choix",
        PaymentStatus::Succeeded => "payé",
        PaymentStatus::Failed => "refusé",
    }
}

/// A day of a reservation.
pub fn day_state(status: DayStatus) -> &'static str {
    match status {
        DayStatus::Requested => "en attente de confirmation",
        DayStatus::AwaitingPayment => "en attente de traitement",
        DayStatus::Booked => "réservé",
        DayStatus::Cancelled => "annulé",
        DayStatus::Expired => "expiré",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn the_first_guide_estimate_is_written_the_french_way() {
        assert_eq!(estimate(4, dec!(4.15)), "4 × 4,15 € = 16,60 €");
        assert_eq!(estimate(17, dec!(4.15)), "17 × 4,15 € = 70,55 €");
        assert_eq!(euros(dec!(4.966)), "4,97 €");
    }

    #[test]
    fn days_and_times_are_french_and_in_paris() {
        let d = NaiveDate::from_ymd_opt(2017, 1, 23).unwrap();
        assert_eq!(day(d), "lun. 23/01/2017");
        assert_eq!(month_name(d), "janvier 2017");
        let t: DateTime<Utc> = "2017-01-11T14:38:00Z".parse().unwrap();
        assert_eq!(time(t), "15:38");
        assert_eq!(date_time(t), "11/01/2017 à 15:38");
    }

    #[test]
    fn the_countdown_says_what_is_left_in_words() {
        let now: DateTime<Utc> = "2017-01-11T13:38:00Z".parse().unwrap();
        let at = |minutes: i64, seconds: i64| {
            now + chrono::Duration::minutes(minutes) + chrono::Duration::seconds(seconds)
        };
        assert_eq!(time_left(now, at(60, 0)), "il reste 1 h 00 min");
        assert_eq!(time_left(now, at(125, 30)), "il reste 2 h 05 min");
        assert_eq!(time_left(now, at(4, 59)), "il reste 4 min");
        assert_eq!(time_left(now, at(0, 30)), "il reste moins d'une minute");
        assert_eq!(time_left(now, at(0, 0)), "délai dépassé");
        assert_eq!(time_left(now, at(-5, 0)), "délai dépassé");
    }
}
