//! Control characters are refused at the edge, before any handler: a NUL in a login, a name, a
//! label or a search reached PostgreSQL, which cannot store it, and the answer was a 500. Tabs
//! and line breaks stay allowed (a textarea sends them); every other C0 control and DEL is
//! `400 invalid_text`, whether it comes in the path, the query, a JSON string or a form field.
//! File uploads (multipart) are not text and are not looked at.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::BODY_LIMIT;

fn invalid_text(where_: &str) -> Response {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_text",
        format!("{where_} contains a control character"),
    )
    .into_response()
}

fn forbidden_byte(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f
}

/// `%00`-style escapes (and raw bytes) of a URL part or a form body.
fn percent_encoded_has_control(text: &[u8]) -> bool {
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'%' if i + 2 < text.len() => {
                let hex = std::str::from_utf8(&text[i + 1..i + 3]).unwrap_or("zz");
                if u8::from_str_radix(hex, 16).is_ok_and(forbidden_byte) {
                    return true;
                }
                i += 3;
            }
            b if forbidden_byte(b) => return true,
            _ => i += 1,
        }
    }
    false
}

/// A `\u00XX` escape of a control character in JSON text (a raw one is not JSON at all). A
/// backslash that is itself escaped (`\\u0000`) starts no escape.
fn json_has_control(text: &[u8]) -> bool {
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'\\' {
            if text.get(i + 1) == Some(&b'u') && i + 6 <= text.len() {
                let hex = std::str::from_utf8(&text[i + 2..i + 6]).unwrap_or("zzzz");
                if u16::from_str_radix(hex, 16).is_ok_and(|c| c < 0x100 && forbidden_byte(c as u8))
                {
                    return true;
                }
            }
            // Skip the escaped character, whatever it is.
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

pub async fn refuse_control_characters(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if percent_encoded_has_control(uri.path().as_bytes()) {
        return invalid_text("the path");
    }
    if uri
        .query()
        .is_some_and(|q| percent_encoded_has_control(q.as_bytes()))
    {
        return invalid_text("the query");
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json = content_type.starts_with("application/json")
        || content_type.starts_with("application/problem+json");
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    if !json && !form {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is larger than {BODY_LIMIT} bytes"),
        )
        .into_response();
    };
    let refused = if json {
        json_has_control(&bytes)
    } else {
        percent_encoded_has_control(&bytes)
    };
    if refused {
        return invalid_text("the body");
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_of_controls_are_found_and_line_breaks_pass() {
        assert!(json_has_control(br#"{"login":"a\u0000b"}"#));
        assert!(json_has_control(br#"{"name":"x\u001F"}"#));
        assert!(json_has_control(br#"{"name":"x\u007f"}"#));
        assert!(!json_has_control(br#"{"text":"a\nb\u000Ac\u0009"}"#));
        assert!(!json_has_control(br#"{"path":"C:\\u0000"}"#));
        assert!(!json_has_control("{\"name\":\"Chloé \\u00e9\"}".as_bytes()));
        assert!(percent_encoded_has_control(b"q=%00"));
        assert!(percent_encoded_has_control(b"a=1&b=x%1b"));
        assert!(!percent_encoded_has_control(
            b"texte=ligne%0D%0Asuite&q=%C3%A9"
        ));
        assert!(!percent_encoded_has_control(b"q=100%"));
    }
}
