//! HMAC-SHA256 of the raw body, sent as `Cantine-Signature: sha256=<hex>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "cantine-signature";

pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Compared in constant time by the MAC itself.
pub fn valid(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any size");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_body_and_key_only() {
        let signature = sign(b"key", b"{\"a\":1}");
        assert!(valid(b"key", b"{\"a\":1}", Some(&signature)));
        assert!(!valid(b"key", b"{\"a\":2}", Some(&signature)));
        assert!(!valid(b"other", b"{\"a\":1}", Some(&signature)));
        assert!(!valid(b"key", b"{\"a\":1}", None));
        assert!(!valid(b"key", b"{\"a\":1}", Some("sha256=zz")));
    }
}
