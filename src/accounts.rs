//! Accounts: roles, password hashing (argon2) and opaque session tokens kept only as hashes.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Wrong passwords in a row that lock an account (second guide).
pub const LOCK_AFTER_FAILURES: i32 = 3;
/// How long a session token lives.
pub const SESSION_HOURS: i64 = 12;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Family,
    Admin,
    Kitchen,
    Finance,
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Family => "family",
            Role::Admin => "admin",
            Role::Kitchen => "kitchen",
            Role::Finance => "finance",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "family" => Some(Role::Family),
            "admin" => Some(Role::Admin),
            "kitchen" => Some(Role::Kitchen),
            "finance" => Some(Role::Finance),
            "auditor" => Some(Role::Auditor),
            _ => None,
        }
    }
}

/// A family's login is its e-mail address (second guide): something mail can be sent to.
/// Deliberately loose (the mail server has the last word), but no spaces, one `@`, a dotted
/// domain, and short enough for SMTP.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| {
            c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',' || c == ';'
        })
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new random session token and the hash under which it is stored.
pub fn new_session_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn family_logins_are_email_addresses() {
        assert!(is_email("famille.dupont@example.fr"));
        assert!(is_email("Prenom.Nom+cantine@mairie-carcassonne.fr"));
        for bad in [
            "dupont",
            "@example.fr",
            "a@b",
            "a b@example.fr",
            "a@@example.fr",
            "a@example.fr.",
            "<a@example.fr>",
            "a@example.fr, b@example.fr",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_are_stored_as_hashes() {
        let (token, hash) = new_session_token();
        assert_eq!(token.len(), 64);
        assert_eq!(hash, token_hash(&token));
        assert_ne!(hash, token.as_bytes());
    }
}
