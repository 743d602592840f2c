//! `Server-Timing: app;dur=<ms>` on every answer: the time the service spent on the request,
//! apart from the network and the client's own queue. The opening-day benchmark reads it to
//! tell the server's time from the latency its clients see on a shared machine.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

pub const HEADER: &str = "server-timing";

pub async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let mut response = next.run(request).await;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = HeaderValue::from_str(&format!("app;dur={millis:.2}")) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

/// The `app` duration of a `Server-Timing` header, in milliseconds.
pub fn parse(header: &str) -> Option<f64> {
    header.split(',').find_map(|metric| {
        let mut parts = metric.split(';').map(str::trim);
        if parts.next()? != "app" {
            return None;
        }
        parts.find_map(|p| p.strip_prefix("dur=")?.parse().ok())
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_the_app_duration() {
        assert_eq!(parse("app;dur=12.50"), Some(12.5));
        assert_eq!(parse("db;dur=3, app;desc=\"x\";dur=7"), Some(7.0));
        assert_eq!(parse("db;dur=3"), None);
        assert_eq!(parse("app"), None);
    }
}
