//! The town's identity as the login page shows it to visitors, and the administrators' update
//! of its contact details (phone, contact e-mail, the town's site) and of its logo. Every field
//! is checked before anything changes; a refusal names its field.

use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
pub use crate::db::town::TownIdentity;

pub async fn identity(state: &Cantine) -> AppResult<TownIdentity> {
    Ok(db::town::identity(&state.pool, state.organisation.id).await?)
}

/// The largest logo a town may have.
pub const LOGO_MAX_BYTES: usize = 200 * 1024;

/// A town's logo as it is served.
pub struct Logo {
    pub media_type: String,
    pub bytes: Vec<u8>,
}

pub async fn logo(state: &Cantine) -> AppResult<Option<Logo>> {
    Ok(db::town::logo(&state.pool, state.organisation.id)
        .await?
        .map(|(media_type, bytes)| Logo { media_type, bytes }))
}

/// The media type of a logo's bytes, told by their first bytes (not by a name or a header a
/// browser sends): PNG or JPEG, the images every browser shows and none can script.
pub fn logo_media_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// Replaces the town's logo; refused, and nothing changed, unless it is a PNG or JPEG image of
/// at most [`LOGO_MAX_BYTES`].
pub async fn set_logo(state: &Cantine, caller: &Caller, bytes: &[u8]) -> AppResult<()> {
    if bytes.is_empty() {
        return Err(AppError::rule("logo_missing", "choose an image file"));
    }
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(AppError::rule(
            "logo_too_large",
            format!("the logo has {} kB at most", LOGO_MAX_BYTES / 1024),
        ));
    }
    let Some(media_type) = logo_media_type(bytes) else {
        return Err(AppError::rule(
            "logo_not_an_image",
            "the logo must be a PNG or JPEG image",
        ));
    };
    db::town::set_logo(
        &state.pool,
        state.organisation.id,
        Some((media_type, bytes)),
    )
    .await?;
    tracing::info!(by = %caller.user_id, bytes = bytes.len(), "town logo replaced");
    Ok(())
}

pub async fn remove_logo(state: &Cantine, caller: &Caller) -> AppResult<()> {
    db::town::set_logo(&state.pool, state.organisation.id, None).await?;
    tracing::info!(by = %caller.user_id, "town logo removed");
    Ok(())
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
