//! The town's identity as the login page shows it to visitors, and the administrators' update
//! of its contact details (phone, contact e-mail, the town's site). Every field is checked
//! before anything changes; a refusal names its field.

use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
pub use crate::db::town::TownIdentity;

pub async fn identity(state: &Cantine) -> AppResult<TownIdentity> {
    Ok(db::town::identity(&state.pool, state.organisation.id).await?)
}

/// The contact details as a form or a request gives them; an empty field clears it.
#[derive(Debug, Default, Clone)]
pub struct Contact {
    pub phone: String,
    pub contact_email: String,
    pub website: String,
}

pub async fn update_contact(state: &Cantine, caller: &Caller, contact: Contact) -> AppResult<()> {
    let contact = checked(contact)?;
    db::town::update_contact(
        &state.pool,
        state.organisation.id,
        &contact.phone,
        &contact.contact_email,
        &contact.website,
    )
    .await?;
    tracing::info!(by = %caller.user_id, "town contact details updated");
    Ok(())
}

/// The trimmed details, or the first field's refusal.
pub fn checked(contact: Contact) -> AppResult<Contact> {
    let phone = contact.phone.trim().to_string();
    let email = contact.contact_email.trim().to_string();
    let website = contact.website.trim().to_string();
    let phone_ok = phone.chars().count() <= 40
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || " .+-()".contains(c))
        && (phone.is_empty() || phone.chars().filter(char::is_ascii_digit).count() >= 4);
    if !phone_ok {
        return Err(AppError::rule(
            "invalid_phone",
            "phone: digits, spaces, dots, dashes, + and parentheses, at most 40 characters",
        ));
    }
    if !email.is_empty() && !plausible_email(&email) {
        return Err(AppError::rule(
            "invalid_email",
            "contact_email must be an e-mail address",
        ));
    }
    let website_ok = website.is_empty()
        || (website.len() <= 300
            && (website.starts_with("https://") || website.starts_with("http://"))
            && website.len() > "https://".len()
            && !website.chars().any(|c| c.is_whitespace() || c.is_control()));
    if !website_ok {
        return Err(AppError::rule(
            "invalid_website",
            "website must be an http(s) address of at most 300 characters",
        ));
    }
    Ok(Contact {
        phone,
        contact_email: email,
        website,
    })
}

/// One `@` between a non-empty local part and a dotted domain, no spaces: enough to catch a
/// typing slip without refusing a real address.
fn plausible_email(email: &str) -> bool {
    email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(phone: &str, email: &str, website: &str) -> Contact {
        Contact {
            phone: phone.into(),
            contact_email: email.into(),
            website: website.into(),
        }
    }

    #[test]
    fn accepts_a_french_contact_and_trims_it() {
        let ok = checked(contact(
            " 04.66.71.71.55 ",
            "cantine@terredecamargue.fr ",
            "https://www.terredecamargue.fr",
        ))
        .unwrap();
        assert_eq!(ok.phone, "04.66.71.71.55");
        assert_eq!(ok.contact_email, "cantine@terredecamargue.fr");
        assert!(checked(contact("", "", "")).is_ok());
        assert!(checked(contact("+33 (0)4 66 71 71 55", "", "")).is_ok());
    }

    #[test]
    fn refuses_each_field_by_its_code() {
        let code = |c: Contact| checked(c).unwrap_err().code();
        assert_eq!(code(contact("appelez-nous", "", "")), "invalid_phone");
        assert_eq!(code(contact("12", "", "")), "invalid_phone");
        assert_eq!(code(contact("", "mairie", "")), "invalid_email");
        assert_eq!(code(contact("", "a@b", "")), "invalid_email");
        assert_eq!(code(contact("", "a b@c.fr", "")), "invalid_email");
        assert_eq!(
            code(contact("", "", "javascript:alert(1)")),
            "invalid_website"
        );
        assert_eq!(code(contact("", "", "https://")), "invalid_website");
    }
}
