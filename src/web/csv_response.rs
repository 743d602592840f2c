//! Content negotiation for the staff exports: `Accept: text/csv` gives CSV, anything else JSON.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

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
        writer.write_record(&row).map_err(ApiError::internal)?;
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
