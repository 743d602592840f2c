//! What the administrators' forms share: labelled fields that show their error next to them,
//! the refusals of `app::administration` put in French, and the parsing of what a browser
//! sends (numbers, dates, French amounts) before the application's rules are asked.

use std::collections::HashMap;

use axum::response::Response;
use chrono::NaiveDate;
use maud::{html, Markup};
use rust_decimal::Decimal;

use crate::app::AppError;
use crate::web::pages::error::french_for_code;
use crate::web::pages::layout::see_other;

/// A form's action, with the anchor of its section: a refused form comes back scrolled to
/// itself, its message in view, however long the page.
pub fn action(path: &str, anchor: &str) -> String {
    format!("{path}#{anchor}")
}

/// After a form that worked: the next page from its top, where its message is (without an
/// anchor of its own, the browser would keep the form's).
pub fn done(location: &str) -> Response {
    see_other(&format!("{location}#contenu"))
}

/// The errors of one form, by field name.
#[derive(Default)]
pub struct Errors(Vec<(String, String)>);

impl Errors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    pub fn one(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Errors::default();
        errors.add(field, message);
        errors
    }
}

/// The id of a form's field: its name, after the form's prefix when a page repeats the form
/// (one per child), so that every id stays unique.
pub fn field_id(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}-{name}")
    }
}

/// A labelled `<input>`; its error, if any, is tied to it (`aria-describedby`).
pub fn input(
    (prefix, name): (&str, &str),
    label: &str,
    kind: &str,
    value: &str,
    errors: &Errors,
    hint: Option<&str>,
) -> Markup {
    let id = &field_id(prefix, name);
    let error = errors.get(name);
    let error_id = format!("{id}-erreur");
    let hint_id = format!("{id}-aide");
    let described: Vec<&str> = [
        error.map(|_| error_id.as_str()),
        hint.map(|_| hint_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    html! {
        p class="field" {
            label for=(id) { (label) }
            @if let Some(hint) = hint {
                span id=(hint_id) class="note hint" { (hint) }
            }
            input id=(id) name=(name) type=(kind) value=(value)
                aria-invalid=[error.map(|_| "true")] aria-describedby=[described];
            @if let Some(error) = error {
                span id=(error_id) class="field-error" { (error) }
            }
        }
    }
}

/// A labelled `<select>` of `(value, label)` options.
pub fn select(
    (prefix, name): (&str, &str),
    label: &str,
    options: &[(&str, &str)],
    chosen: &str,
    errors: &Errors,
) -> Markup {
    let id = &field_id(prefix, name);
    let error = errors.get(name);
    let error_id = format!("{id}-erreur");
    html! {
        p class="field" {
            label for=(id) { (label) }
            select id=(id) name=(name) aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| error_id.as_str())] {
                @for (value, text) in options {
                    option value=(value) selected[*value == chosen] { (text) }
                }
            }
            @if let Some(error) = error {
                span id=(error_id) class="field-error" { (error) }
            }
        }
    }
}

/// The banner at the top of a refused form.
pub fn refused(errors: &Errors, what: &str) -> Markup {
    html! {
        @if errors.any() {
            p class="alert" role="alert" { (what) " : rien n'a été modifié. Corrigez les champs signalés." }
        }
    }
}

/// The application's refusal as the administrators read it.
pub fn french(error: &AppError) -> String {
    let detail = error.to_string();
    let text = match error.code() {
        "empty_field" => "Ce champ est obligatoire.",
        "invalid_login" => {
            "Écrivez une adresse e-mail valide, sans espace (par exemple nom@exemple.fr)."
        }
        "login_taken" => "Cette adresse e-mail est déjà celle d'un autre compte.",
        "invalid_quotient" => {
            "Le quotient familial est un nombre entier d'euros, zéro ou plus ; laissez le champ \
             vide s'il est inconnu."
        }
        "invalid_capacity" => "La capacité est un nombre entier de places, zéro ou plus.",
        "invalid_meal_option" => "Choisissez un des menus proposés.",
        "closed_day" => "La cantine ne sert pas ce jour-là dans cette période.",
        "capacity_below_taken" => {
            "Plus de places sont déjà prises ce jour-là : la capacité ne peut pas descendre \
             en dessous."
        }
        "tariff_exists" => {
            "Cette période a déjà une grille à partir de cette date : choisissez une date plus \
             tardive."
        }
        "account_disabled" => "Le compte est désactivé : réactivez-le d'abord.",
        "invalid_tariff" => return tariff_message(&detail).to_string(),
        "invalid_period" if detail.contains("ends before it starts") => {
            "La fin de la fermeture est avant son début."
        }
        // The portal's sentence for the code, else the refusal's own words.
        code => return french_for_code(code).map_or(detail, str::to_string),
    };
    text.to_string()
}

/// The domain's price-list refusals (`domain::tariff::TariffError`), in French.
fn tariff_message(detail: &str) -> &'static str {
    if detail.contains("at least one bracket") {
        "Une grille a au moins une tranche."
    } else if detail.contains("strictly ascending") {
        "Les plafonds des tranches doivent aller en croissant, sans doublon."
    } else if detail.contains("open top one") {
        "Seule la dernière tranche est sans plafond, et elle l'est toujours."
    } else if detail.contains("upper bound") {
        "Un plafond est un nombre entier d'euros, zéro ou plus."
    } else if detail.contains("unit price") {
        "Un prix est un montant positif d'au plus deux décimales (par exemple 4,15)."
    } else {
        "Cette grille de prix n'est pas valable."
    }
}

/// Whether an `empty_field` refusal names this field (as the API's body spells it).
pub fn names_field(error: &AppError, field: &str) -> bool {
    error.to_string().contains(&format!("`{field}`"))
}

/// A whole number typed in a form: empty is none; anything else that is not one is refused,
/// with the sentence to show next to the field (as for amounts and dates below).
pub fn whole_number(text: &str) -> Result<Option<i64>, &'static str> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| BAD_NUMBER)
}

/// An amount typed the French way (`4,15`) or the other (`4.15`), with or without `€`.
pub fn amount(text: &str) -> Result<Decimal, &'static str> {
    let text: String = text
        .trim()
        .trim_end_matches('€')
        .trim()
        .replace(',', ".")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    text.parse().map_err(|_| BAD_AMOUNT)
}

/// A date from a `type="date"` field (`2017-01-23`) or typed `23/01/2017`.
pub fn date(text: &str) -> Result<NaiveDate, &'static str> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map_err(|_| BAD_DATE)
}

/// A field of a form read as a map (forms whose rows vary), trimmed; empty when absent.
pub fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or("").trim()
}

/// A value for a link's query string, percent-encoded.
pub fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub const BAD_DATE: &str =
    "Date invalide : choisissez-la dans le calendrier ou écrivez-la jj/mm/aaaa.";
pub const BAD_NUMBER: &str = "Écrivez un nombre entier, sans lettre ni virgule.";
pub const BAD_AMOUNT: &str = "Écrivez un montant, par exemple 4,15.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_amounts_and_dates_as_typed_in_french() {
        assert_eq!(whole_number(" 1 200 "), Ok(Some(1200)));
        assert_eq!(whole_number(""), Ok(None));
        assert!(whole_number("12,5").is_err());
        assert_eq!(amount("4,15 €"), Ok(Decimal::new(415, 2)));
        assert_eq!(amount("4.15"), Ok(Decimal::new(415, 2)));
        assert!(amount("quatre").is_err());
        let day = NaiveDate::from_ymd_opt(2017, 1, 23).unwrap();
        assert_eq!(date("2017-01-23"), Ok(day));
        assert_eq!(date("23/01/2017"), Ok(day));
        assert!(date("31/02/2017").is_err());
        assert_eq!(
            query_value("dupont & fils@é"),
            "dupont%20%26%20fils%40%C3%A9"
        );
    }

    #[test]
    fn an_error_is_tied_to_its_field() {
        let errors = Errors::one("nom", "Ce champ est obligatoire.");
        let html = input(("enfant", "nom"), "Nom", "text", "", &errors, None).into_string();
        assert!(html.contains("name=\"nom\""));
        assert!(html.contains("aria-invalid=\"true\""));
        assert!(html.contains("aria-describedby=\"enfant-nom-erreur\""));
        assert!(html.contains("id=\"enfant-nom-erreur\""));
    }
}
