//! Content negotiation for the staff exports: `Accept: text/csv` gives CSV, anything else JSON;
//! and the CSV answers that both the API and the back office serve (the kitchen's headcounts,
//! finance's month-end exports and reconciliation), written from the application's typed rows.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::app::queries::day_range::DayRange;
use crate::app::queries::finance::{Balance, Export, Month, Reconciliation};
use crate::app::queries::headcounts::Headcount;
use crate::domain::meal_option::MealOption;
use crate::domain::period::paris_day;
use crate::domain::reservation::ReservationStatus;

pub fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"))
}

/// The two spellings finance asks for: plain CSV (`,` and `16.60`), or the one French
/// spreadsheets open directly (`;` and `16,60`, with a byte-order mark so that accents show).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CsvStyle {
    #[default]
    Standard,
    French,
}

impl CsvStyle {
    /// `format=fr` asks for the French spelling.
    pub fn from_param(format: Option<&str>) -> Result<Self, ApiError> {
        match format {
            None | Some("standard") => Ok(CsvStyle::Standard),
            Some("fr") => Ok(CsvStyle::French),
            Some(other) => Err(ApiError::bad_request(
                "invalid_parameter",
                format!("format must be `standard` or `fr`, not `{other}`"),
            )),
        }
    }

    /// An amount as this style writes it.
    pub fn money(self, amount: rust_decimal::Decimal) -> String {
        let text = crate::web::api::money::money(amount);
        match self {
            CsvStyle::Standard => text,
            CsvStyle::French => text.replace('.', ","),
        }
    }
}

/// A cell as a spreadsheet must read it: text that starts like a formula (`=`, `+`, `-`, `@`, a
/// tab or a carriage return) gets a leading `'`, so that a family's name cannot run in the
/// finance office's spreadsheet. Numbers keep their sign.
fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    let formula_like = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = cell.replace(',', ".").parse::<f64>().is_ok();
    if formula_like && !number {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// A CSV download named `filename`, from a header row and records.
pub fn csv_response(
    filename: &str,
    header_row: &[&str],
    rows: Vec<Vec<String>>,
) -> Result<Response, ApiError> {
    styled_csv_response(CsvStyle::Standard, filename, header_row, rows)
}

pub fn styled_csv_response(
    style: CsvStyle,
    filename: &str,
    header_row: &[&str],
    rows: Vec<Vec<String>>,
) -> Result<Response, ApiError> {
    let (delimiter, prefix): (u8, &[u8]) = match style {
        CsvStyle::Standard => (b',', b""),
        CsvStyle::French => (b';', "\u{feff}".as_bytes()),
    };
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(prefix.to_vec());
    writer
        .write_record(header_row)
        .map_err(ApiError::internal)?;
    for row in rows {
        writer
            .write_record(row.iter().map(|cell| neutralised(cell).into_owned()))
            .map_err(ApiError::internal)?;
    }
    let body = writer.into_inner().map_err(ApiError::internal)?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// A restaurant's headcounts, a line per service day, booked meals by option; in the French
/// style, with the kitchen's own words as headers and dates as `23/01/2017`.
pub fn headcounts_csv(
    style: CsvStyle,
    range: DayRange,
    rows: &[Headcount],
) -> Result<Response, ApiError> {
    let french = style == CsvStyle::French;
    let mut header = if french {
        vec![
            "Date",
            "Service",
            "Réservés",
            "En attente de paiement",
            "Capacité",
        ]
    } else {
        vec![
            "date",
            "service",
            "booked",
            ReservationStatus::AwaitingPayment.as_str(),
            "capacity",
        ]
    };
    header.extend(MealOption::ALL.map(|o| if french { o.french() } else { o.as_str() }));
    let records = rows
        .iter()
        .map(|r| {
            let mut record = vec![
                if french {
                    r.date.format("%d/%m/%Y").to_string()
                } else {
                    r.date.to_string()
                },
                r.service.clone(),
                r.booked.total().to_string(),
                r.awaiting_payment.total().to_string(),
                r.capacity.to_string(),
            ];
            record.extend(MealOption::ALL.map(|o| r.booked.get(o).to_string()));
            record
        })
        .collect();
    styled_csv_response(
        style,
        &format!("effectifs-{}-{}.csv", range.from, range.to),
        &header,
        records,
    )
}

const DOCUMENT_HEADER: [&str; 10] = [
    "number",
    "issued_on",
    "family",
    "family_id",
    "kind",
    "month",
    "restaurants",
    "reservations",
    "meals",
    "total",
];

/// One month-end export (`factures-2017-01.csv`...), in the style asked.
pub fn month_export_csv(
    style: CsvStyle,
    month: &Month,
    export: Export,
) -> Result<Response, ApiError> {
    let month = month.text();
    let documents = |name: &str, lines: Vec<crate::app::queries::finance::DocumentLine>| {
        let records = lines
            .into_iter()
            .map(|i| {
                vec![
                    i.number,
                    i.issued_on.to_string(),
                    i.family_name,
                    i.family_id.to_string(),
                    i.kind.as_str().to_string(),
                    i.month.unwrap_or_default(),
                    i.restaurants.join(" | "),
                    i.reservations.join(" | "),
                    i.meals.to_string(),
                    style.money(i.total),
                ]
            })
            .collect();
        styled_csv_response(
            style,
            &format!("{name}-{month}.csv"),
            &DOCUMENT_HEADER,
            records,
        )
    };
    match export {
        Export::Invoices(lines) => documents("factures", lines),
        Export::CreditNotes(lines) => documents("avoirs", lines),
        Export::Payments(lines) => styled_csv_response(
            style,
            &format!("paiements-{month}.csv"),
            &[
                "payment_id",
                "paid_on",
                "family",
                "family_id",
                "provider_ref",
                "reservations",
                "credit_used",
                "amount",
            ],
            lines
                .into_iter()
                .map(|p| {
                    vec![
                        p.id.to_string(),
                        paris_day(p.settled_at).to_string(),
                        p.family_name,
                        p.family_id.to_string(),
                        p.provider_ref.unwrap_or_default(),
                        p.reservations.to_string(),
                        style.money(p.credit_used),
                        style.money(p.amount),
                    ]
                })
                .collect(),
        ),
        Export::Refunds(lines) => styled_csv_response(
            style,
            &format!("remboursements-{month}.csv"),
            &[
                "payment_id",
                "reservation_id",
                "recorded_on",
                "family",
                "family_id",
                "reason",
                "amount",
                "method",
                "reference",
            ],
            lines
                .into_iter()
                .map(|r| {
                    vec![
                        r.payment_id.map(|id| id.to_string()).unwrap_or_default(),
                        r.reservation_id
                            .map(|id| id.to_string())
                            .unwrap_or_default(),
                        paris_day(r.recorded_at).to_string(),
                        r.family_name,
                        r.family_id.to_string(),
                        r.reason,
                        style.money(r.amount),
                        r.method,
                        r.reference.unwrap_or_default(),
                    ]
                })
                .collect(),
        ),
    }
}

/// The month's reconciliation, a line per restaurant and the totals' line.
pub fn reconciliation_csv(style: CsvStyle, report: &Reconciliation) -> Result<Response, ApiError> {
    let record = |r: &Balance| {
        vec![
            r.restaurant.clone(),
            style.money(r.invoiced),
            style.money(r.credited),
            style.money(r.paid),
            style.money(r.refunded),
            style.money(r.outstanding()),
        ]
    };
    styled_csv_response(
        style,
        &format!("rapprochement-{}.csv", report.month),
        &[
            "restaurant",
            "invoiced",
            "credited",
            "paid",
            "refunded",
            "outstanding",
        ],
        report
            .restaurants
            .iter()
            .chain(std::iter::once(&report.totals))
            .map(record)
            .collect(),
    )
}

/// The debtors list as CSV, one line per unpaid invoice (the API's and the back office's).
pub fn debtors_csv(
    today: chrono::NaiveDate,
    debtors: &[crate::app::queries::debtors::Debtor],
) -> Result<Response, ApiError> {
    let money = |d: rust_decimal::Decimal| format!("{:.2}", d.round_dp(2));
    let records = debtors
        .iter()
        .flat_map(|d| {
            d.invoices.iter().map(move |i| {
                vec![
                    d.family_name.clone(),
                    d.family_id.to_string(),
                    i.number.clone(),
                    i.month.clone().unwrap_or_default(),
                    crate::domain::period::paris_day(i.issued_at).to_string(),
                    i.age_days.to_string(),
                    money(i.total),
                    money(i.paid),
                    money(i.due),
                ]
            })
        })
        .collect();
    csv_response(
        &format!("debiteurs-{today}.csv"),
        &[
            "family",
            "family_id",
            "invoice",
            "month",
            "issued_on",
            "age_days",
            "total",
            "paid",
            "due",
        ],
        records,
    )
}
