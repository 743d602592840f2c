//! The built-in provider for demos and tests: its page is served by the service itself
//! (`/api/v1/payments/{id}/checkout`), and it signs its notifications with the configured key
//! exactly as a real provider would.

use super::signature;
use super::{Checkout, NotificationHeaders, PaymentProvider, ProviderNotification, Rejected};

pub struct Simulator {
    public_url: String,
    secret: Vec<u8>,
}

impl Simulator {
    pub fn new(public_url: &str, secret: &[u8]) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_string(),
            secret: secret.to_vec(),
        }
    }

    /// The notification the simulator sends for the payer's choice: body and signature.
    pub fn notification(&self, notification: &ProviderNotification) -> (Vec<u8>, String) {
        let body = serde_json::to_vec(notification).expect("a notification serialises");
        let signature = signature::sign(&self.secret, &body);
        (body, signature)
    }
}

impl PaymentProvider for Simulator {
    fn name(&self) -> &'static str {
        "simulator"
    }

    fn checkout_url(&self, checkout: &Checkout) -> String {
        format!(
            "{}/api/v1/payments/{}/checkout",
            self.public_url, checkout.payment_id
        )
    }

    fn verify(
        &self,
        headers: &dyn NotificationHeaders,
        body: &[u8],
    ) -> Result<ProviderNotification, Rejected> {
        super::signed_redirect::verify_signed(&self.secret, headers, body)
    }
}
