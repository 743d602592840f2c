//! The payment provider port: where the payer is sent to pay, and how the provider's word about
//! the outcome is authenticated and read. The rest of the service (payments, notifications,
//! ledger) knows only this port, so PayFiP or a card processor is one more adapter.
//!
//! Two adapters: the built-in [`Simulator`] (demos and tests: a page on the service itself
//! where the payer chooses to succeed or fail, which then notifies like a real provider) and
//! [`SignedRedirect`], for a provider that hosts its own payment page and signs its
//! notifications with HMAC-SHA256.

mod signature;
mod signed_redirect;
mod simulator;

use rust_decimal::Decimal;
use uuid::Uuid;

pub use signature::{sign, SIGNATURE_HEADER};
pub use signed_redirect::SignedRedirect;
pub use simulator::Simulator;

/// What the payer is asked to pay.
#[derive(Clone, Debug)]
pub struct Checkout {
    pub payment_id: Uuid,
    pub amount: Decimal,
    /// Where the provider sends the payer back to.
    pub return_url: String,
    /// Where the provider posts its notification.
    pub notify_url: String,
}

/// The provider's word on a payment.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderNotification {
    /// The payment it is about: signed with the rest, so that a notification of one payment
    /// cannot be posted to another of the same amount.
    pub payment_id: Uuid,
    /// `succeeded` or `failed`
    pub status: String,
    pub amount: Decimal,
    pub provider_ref: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Rejected {
    /// Not from the provider: nothing of it may be stored.
    #[error("the notification's signature is wrong")]
    Signature,
    #[error("the notification cannot be read: {0}")]
    Malformed(String),
}

pub trait PaymentProvider: Send + Sync {
    /// Its name in logs and settings.
    fn name(&self) -> &'static str;

    /// The page the payer is sent to.
    fn checkout_url(&self, checkout: &Checkout) -> String;

    /// Authenticates a notification and reads it.
    fn verify(
        &self,
        headers: &dyn NotificationHeaders,
        body: &[u8],
    ) -> Result<ProviderNotification, Rejected>;
}

/// The headers of a provider's notification, as the web hands them over (the web implements
/// this for its header map), so that checking a signature needs no HTTP library here.
pub trait NotificationHeaders {
    fn header(&self, name: &str) -> Option<&str>;
}

impl NotificationHeaders for std::collections::HashMap<String, String> {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}
