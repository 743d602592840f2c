//! The payment provider's notification headers, handed to the application as it reads them.

use axum::http::HeaderMap;

use crate::app::payment_provider::NotificationHeaders;

impl NotificationHeaders for HeaderMap {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| v.to_str().ok())
    }
}
