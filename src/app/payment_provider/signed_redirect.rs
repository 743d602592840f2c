//! A provider that hosts its own payment page: the payer is sent there with the payment's id,
//! amount and the URLs to come back to and to notify; the provider posts its notification signed
//! with HMAC-SHA256 of the raw body under the shared key.

use super::signature;
use super::{Checkout, NotificationHeaders, PaymentProvider, ProviderNotification, Rejected};

pub struct SignedRedirect {
    page_url: String,
    secret: Vec<u8>,
}

impl SignedRedirect {
    pub fn new(page_url: &str, secret: &[u8]) -> Self {
        Self {
            page_url: page_url.to_string(),
            secret: secret.to_vec(),
        }
    }
}

impl PaymentProvider for SignedRedirect {
    fn name(&self) -> &'static str {
        "signed-redirect"
    }

    fn checkout_url(&self, checkout: &Checkout) -> String {
        let separator = if self.page_url.contains('?') {
            '&'
        } else {
            '?'
        };
        let query = [
            ("payment_id", checkout.payment_id.to_string()),
            ("amount", format!("{:.2}", checkout.amount)),
            ("return_url", checkout.return_url.clone()),
            ("notify_url", checkout.notify_url.clone()),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
        format!("{}{separator}{query}", self.page_url)
    }

    fn verify(
        &self,
        headers: &dyn NotificationHeaders,
        body: &[u8],
    ) -> Result<ProviderNotification, Rejected> {
        verify_signed(&self.secret, headers, body)
    }
}

pub(super) fn verify_signed(
    secret: &[u8],
    headers: &dyn NotificationHeaders,
    body: &[u8],
) -> Result<ProviderNotification, Rejected> {
    let header = headers.header(signature::SIGNATURE_HEADER);
    if !signature::valid(secret, body, header) {
        return Err(Rejected::Signature);
    }
    serde_json::from_slice(body).map_err(|e| Rejected::Malformed(e.to_string()))
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use uuid::Uuid;

    #[test]
    fn the_payer_is_sent_to_the_providers_page_with_what_to_pay() {
        let provider = SignedRedirect::new("https://pay.example/checkout", b"k");
        let id = Uuid::nil();
        let url = provider.checkout_url(&Checkout {
            payment_id: id,
            amount: Decimal::new(1660, 2),
            return_url: "https://cantine.example/paiement?id=1".into(),
            notify_url: "https://cantine.example/api/v1/payments/x/notify".into(),
        });
        assert_eq!(
            url,
            format!(
                "https://pay.example/checkout?payment_id={id}&amount=16.60\
                 &return_url=https%3A%2F%2Fcantine.example%2Fpaiement%3Fid%3D1\
                 &notify_url=https%3A%2F%2Fcantine.example%2Fapi%2Fv1%2Fpayments%2Fx%2Fnotify"
            )
        );
    }

    #[test]
    fn only_a_signed_notification_is_read() {
        let provider = SignedRedirect::new("https://pay.example/", b"k");
        let body = br#"{"payment_id":"0192a1b2-0000-7000-8000-000000000001","status":"succeeded","amount":"16.60","provider_ref":"T1"}"#;
        let mut headers = std::collections::HashMap::new();
        assert_eq!(provider.verify(&headers, body), Err(Rejected::Signature));
        headers.insert(
            signature::SIGNATURE_HEADER.to_string(),
            signature::sign(b"k", body),
        );
        let read = provider.verify(&headers, body).unwrap();
        assert_eq!(read.amount, Decimal::new(1660, 2));
        assert_eq!(read.provider_ref, "T1");
        assert_eq!(
            read.payment_id.to_string(),
            "0192a1b2-0000-7000-8000-000000000001"
        );
        let mut forged = headers.clone();
        forged.insert(
            signature::SIGNATURE_HEADER.to_string(),
            signature::sign(b"other", body),
        );
        assert_eq!(provider.verify(&forged, body), Err(Rejected::Signature));
    }
}
