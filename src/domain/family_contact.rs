//! A family's contact details as the family keeps them ("Modifier les informations de la
//! famille"): its postal address, its phones and its second guardian's contact. Each field is
//! optional (empty means not given); what is given must be something the town can use.

use super::account::is_email;

/// The details, trimmed; `None` where nothing was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FamilyContact {
    pub address: Option<String>,
    pub phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub second_guardian_name: Option<String>,
    pub second_guardian_phone: Option<String>,
    pub second_guardian_email: Option<String>,
}

/// Which field was refused, and why in the words the family reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactField {
    Address,
    Phone,
    MobilePhone,
    SecondGuardianName,
    SecondGuardianPhone,
    SecondGuardianEmail,
}

impl ContactField {
    /// The error code of the refusal.
    pub fn code(self) -> &'static str {
        match self {
            ContactField::Address => "invalid_address",
            ContactField::Phone => "invalid_phone",
            ContactField::MobilePhone => "invalid_mobile_phone",
            ContactField::SecondGuardianName => "invalid_second_guardian_name",
            ContactField::SecondGuardianPhone => "invalid_second_guardian_phone",
            ContactField::SecondGuardianEmail => "invalid_second_guardian_email",
        }
    }

    pub fn parse_code(code: &str) -> Option<ContactField> {
        [
            ContactField::Address,
            ContactField::Phone,
            ContactField::MobilePhone,
            ContactField::SecondGuardianName,
            ContactField::SecondGuardianPhone,
            ContactField::SecondGuardianEmail,
        ]
        .into_iter()
        .find(|f| f.code() == code)
    }

    /// Why such a field is refused, in French.
    pub fn french(self) -> &'static str {
        match self {
            ContactField::Address => "L'adresse postale compte 300 caractères au plus.",
            ContactField::Phone | ContactField::MobilePhone | ContactField::SecondGuardianPhone => {
                "Le numéro de téléphone ne peut contenir que des chiffres (6 à 15), des espaces, \
                 des points, des tirets et un + au début."
            }
            ContactField::SecondGuardianName => {
                "Le nom du second responsable compte 100 caractères au plus."
            }
            ContactField::SecondGuardianEmail => {
                "L'adresse e-mail du second responsable n'est pas valable (exemple : \
                 prenom.nom@exemple.fr)."
            }
        }
    }
}

pub const MAX_ADDRESS_CHARS: usize = 300;
pub const MAX_NAME_CHARS: usize = 100;

fn given(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// A phone number as people write it: `04 66 71 71 55`, `+33 6 12 34 56 78`, `06.98.76.54.32`.
pub fn is_phone(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let body = text.strip_prefix('+').unwrap_or(text);
    (6..=15).contains(&digits)
        && text.chars().count() <= 25
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '.' || c == '-')
}

impl FamilyContact {
    /// The details from what the family typed, or the first field refused.
    pub fn from_input(
        address: &str,
        phone: &str,
        mobile_phone: &str,
        second_guardian_name: &str,
        second_guardian_phone: &str,
        second_guardian_email: &str,
    ) -> Result<FamilyContact, ContactField> {
        // An address has lines; nothing else may carry a control character.
        let address = given(&address.replace("\r\n", "\n"));
        if address.as_ref().is_some_and(|a| {
            a.chars().count() > MAX_ADDRESS_CHARS || a.chars().any(|c| c.is_control() && c != '\n')
        }) {
            return Err(ContactField::Address);
        }
        let phone_field = |text: &str, field| -> Result<Option<String>, ContactField> {
            match given(text) {
                Some(p) if !is_phone(&p) => Err(field),
                other => Ok(other),
            }
        };
        let phone = phone_field(phone, ContactField::Phone)?;
        let mobile_phone = phone_field(mobile_phone, ContactField::MobilePhone)?;
        let second_guardian_name = given(second_guardian_name);
        if second_guardian_name
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control))
        {
            return Err(ContactField::SecondGuardianName);
        }
        let second_guardian_phone =
            phone_field(second_guardian_phone, ContactField::SecondGuardianPhone)?;
        let second_guardian_email = given(second_guardian_email);
        if second_guardian_email.as_ref().is_some_and(|e| !is_email(e)) {
            return Err(ContactField::SecondGuardianEmail);
        }
        Ok(FamilyContact {
            address,
            phone,
            mobile_phone,
            second_guardian_name,
            second_guardian_phone,
            second_guardian_email,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_written_as_people_write_them() {
        assert!(is_phone("04 66 71 71 55"));
        assert!(is_phone("+33 6 12 34 56 78"));
        assert!(is_phone("06.98.76.54.32"));
        assert!(!is_phone("appelez-moi"));
        assert!(!is_phone("12"));
        assert!(!is_phone("06+12"));
    }

    #[test]
    fn empty_fields_are_not_given_and_a_bad_one_is_named() {
        let contact =
            FamilyContact::from_input(" 1 rue Neuve\r\n30220 ", "", "", "", "", "").unwrap();
        assert_eq!(contact.address.as_deref(), Some("1 rue Neuve\n30220"));
        assert_eq!(contact.phone, None);
        assert_eq!(
            FamilyContact::from_input("", "", "", "", "", "marie@"),
            Err(ContactField::SecondGuardianEmail)
        );
        assert_eq!(
            FamilyContact::from_input("", "abc", "", "", "", ""),
            Err(ContactField::Phone)
        );
    }
}
