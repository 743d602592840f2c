//! Accounts: who may log in as what, and the rules of logins and locks.

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
    /// The town's front desk: acts for families who phone or come to the town hall.
    Desk,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Family => "family",
            Role::Admin => "admin",
            Role::Kitchen => "kitchen",
            Role::Finance => "finance",
            Role::Auditor => "auditor",
            Role::Desk => "desk",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "family" => Some(Role::Family),
            "admin" => Some(Role::Admin),
            "kitchen" => Some(Role::Kitchen),
            "finance" => Some(Role::Finance),
            "auditor" => Some(Role::Auditor),
            "desk" => Some(Role::Desk),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
