//! The kitchen's roll call as CSV: plain (`,`, English headers) or as French spreadsheets open
//! it (`;`, a byte-order mark, French headers and words).

use axum::response::Response;

use super::csv_response::{styled_csv_response, CsvStyle};
use super::error::ApiError;
use crate::app::queries::roll_call::RollCall;
use crate::domain::reservation::DayStatus;

const STANDARD_HEADER: [&str; 8] = [
    "date",
    "restaurant",
    "service",
    "last_name",
    "first_name",
    "meal_option",
    "status",
    "reservation",
];

const FRENCH_HEADER: [&str; 8] = [
    "Date",
    "Restaurant",
    "Service",
    "Nom",
    "Prénom",
    "Menu",
    "Place",
    "Réservation",
];

/// How the kitchen's sheet names a place's status.
pub fn status_french(status: DayStatus) -> &'static str {
    match status {
        DayStatus::Booked => "Réservé",
        DayStatus::AwaitingPayment => "En attente de paiement",
        DayStatus::Requested => "Demande non confirmée",
        DayStatus::Cancelled => "Annulé",
        DayStatus::Expired => "Expiré",
    }
}

pub fn roll_call_csv(style: CsvStyle, roll: &RollCall) -> Result<Response, ApiError> {
    let french = style == CsvStyle::French;
    let date = if french {
        roll.date.format("%d/%m/%Y").to_string()
    } else {
        roll.date.to_string()
    };
    let records = roll
        .services
        .iter()
        .flat_map(|service| {
            service.diners.iter().map(|d| {
                vec![
                    date.clone(),
                    roll.restaurant.clone(),
                    service.service.clone(),
                    d.last_name.clone(),
                    d.first_name.clone(),
                    if french {
                        d.meal_option_french().to_string()
                    } else {
                        d.meal_option.clone()
                    },
                    if french {
                        status_french(d.status).to_string()
                    } else {
                        d.status.as_str().to_string()
                    },
                    format!("{:05}", d.reservation_number),
                ]
            })
        })
        .collect();
    let header: &[&str] = if french {
        &FRENCH_HEADER
    } else {
        &STANDARD_HEADER
    };
    styled_csv_response(style, &format!("appel-{}.csv", roll.date), header, records)
}
