//! An XML document as a download (the SEPA collection files), for the API and the back office.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// The document as an attachment named after its message id.
pub fn xml_response(message_id: &str, xml: String) -> Response {
    let mut response = xml.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{message_id}.xml\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
