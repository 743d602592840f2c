//! What families are told by e-mail, and in which words: the notifications a reservation's
//! events cause, in French, with the town's name and address. Pure: the consumer of the log
//! (`projections::notifications`) hands the facts, the outbox keeps the result, the mailer
//! sends it.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Paris;
use rust_decimal::Decimal;

use super::money::french_euros;

/// A kind of notification; with the event's position, the key of its outbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    ReservationConfirmed,
    ReservationExpired,
    PaymentReceived,
    SepaPrenotification,
    /// A prepaid hold's deadline is near.
    HoldReminder,
    /// A monthly invoice was issued.
    InvoiceIssued,
    CreditNote,
    /// A freed place went to the child first in line.
    WaitlistPlaceOffered,
    /// An unpaid monthly invoice is followed up.
    InvoiceReminder,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 9] = [
        NoticeKind::ReservationConfirmed,
        NoticeKind::ReservationExpired,
        NoticeKind::PaymentReceived,
        NoticeKind::HoldReminder,
        NoticeKind::InvoiceIssued,
        NoticeKind::CreditNote,
        NoticeKind::WaitlistPlaceOffered,
        NoticeKind::InvoiceReminder,
        NoticeKind::SepaPrenotification,
    ];

    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::ReservationConfirmed => "reservation_confirmed",
            NoticeKind::ReservationExpired => "reservation_expired",
            NoticeKind::PaymentReceived => "payment_received",
            NoticeKind::HoldReminder => "hold_reminder",
            NoticeKind::InvoiceIssued => "invoice_issued",
            NoticeKind::CreditNote => "credit_note",
            NoticeKind::WaitlistPlaceOffered => "waitlist_place_offered",
            NoticeKind::InvoiceReminder => "invoice_reminder",
            NoticeKind::SepaPrenotification => "sepa_prenotification",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether a family may turn it off: the e-mails that tell of a place, a deadline or a
    /// debt are always sent; a receipt, a reminder of a deadline already told, an invoice or a
    /// credit note the portal also shows are not essential.
    pub fn optional(self) -> bool {
        matches!(
            self,
            NoticeKind::PaymentReceived
                | NoticeKind::HoldReminder
                | NoticeKind::InvoiceIssued
                | NoticeKind::CreditNote
        )
    }

    /// As "Mon compte" names it.
    pub fn french(self) -> &'static str {
        match self {
            NoticeKind::ReservationConfirmed => "Réservation confirmée",
            NoticeKind::ReservationExpired => "Réservation annulée faute de paiement",
            NoticeKind::PaymentReceived => "Accusé de réception de vos paiements",
            NoticeKind::HoldReminder => "Rappel avant l'heure limite de paiement d'une réservation",
            NoticeKind::InvoiceIssued => "Facture mensuelle émise",
            NoticeKind::CreditNote => "Avoir émis",
            NoticeKind::WaitlistPlaceOffered => "Place attribuée sur liste d'attente",
            NoticeKind::InvoiceReminder => "Rappels de factures impayées",
            NoticeKind::SepaPrenotification => "Annonce de vos prélèvements SEPA",
        }
    }
}

/// The town that writes (the organisation).
#[derive(Debug, Clone)]
pub struct Town {
    pub name: String,
    pub address: String,
}

/// What a notification says of its reservation (from its request event).
#[derive(Debug, Clone)]
pub struct ReservationFacts {
    pub number: u64,
    pub child_first_name: String,
    pub child_last_name: String,
    pub restaurant: String,
    pub period_label: String,
    pub days: Vec<NaiveDate>,
}

/// One e-mail to send: its kind, subject, French text and HTML alternative.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn paris(at: DateTime<Utc>) -> String {
    at.with_timezone(&Paris)
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

fn number(n: u64) -> String {
    format!("{n:05}")
}

impl ReservationFacts {
    fn summary(&self) -> String {
        let days = match (self.days.iter().min(), self.days.iter().max()) {
            (Some(first), Some(last)) if first == last => {
                format!("le {}", first.format("%d/%m/%Y"))
            }
            (Some(first), Some(last)) => format!(
                "{} jour{} du {} au {}",
                self.days.len(),
                if self.days.len() > 1 { "s" } else { "" },
                first.format("%d/%m/%Y"),
                last.format("%d/%m/%Y")
            ),
            _ => String::new(),
        };
        format!(
            "Réservation N° {}\nEnfant : {} {}\nRestaurant : {} ({})\nJours : {}",
            number(self.number),
            self.child_first_name,
            self.child_last_name,
            self.restaurant,
            self.period_label,
            days
        )
    }
}

fn notice(kind: NoticeKind, town: &Town, subject: String, lines: &[String]) -> Notice {
    let mut text = String::from("Bonjour,\n\n");
    for line in lines {
        text.push_str(line);
        text.push_str("\n\n");
    }
    text.push_str("Ce message vous est envoyé automatiquement par le portail famille ; ");
    text.push_str("merci de ne pas y répondre.\n\n");
    text.push_str(&town.name);
    text.push('\n');
    if !town.address.trim().is_empty() {
        text.push_str(town.address.trim());
        text.push('\n');
    }
    let html = html_of_text(&text);
    Notice {
        kind,
        subject: format!("{} : {subject}", town.name),
        text,
        html,
    }
}

/// The request is confirmed: the amount, and for a prepaid period the deadline to pay.
pub fn reservation_confirmed(
    town: &Town,
    facts: &ReservationFacts,
    total: Decimal,
    pay_before: Option<DateTime<Utc>>,
) -> Notice {
    let mut lines = vec![
        format!(
            "Votre réservation N° {} pour {} est confirmée.",
            number(facts.number),
            facts.child_first_name
        ),
        facts.summary(),
        format!("Montant : {}", french_euros(total)),
    ];
    match pay_before {
        Some(deadline) => lines.push(format!(
            "Réglez-la avant le {} (heure de Paris) dans « Mon panier » du portail famille : \
             sans paiement à cette heure, elle sera annulée automatiquement et les places \
             libérées.",
            paris(deadline)
        )),
        None => lines.push(
            "Les repas réservés vous seront facturés en fin de mois, sur votre facture mensuelle."
                .to_string(),
        ),
    }
    notice(
        NoticeKind::ReservationConfirmed,
        town,
        format!("réservation N° {} confirmée", number(facts.number)),
        &lines,
    )
}

/// A prepaid reservation was not paid in time: its places are given back.
pub fn reservation_expired(
    town: &Town,
    facts: &ReservationFacts,
    expired_at: DateTime<Utc>,
) -> Notice {
    let lines = vec![
        format!(
            "Votre réservation N° {} pour {} n'a pas été réglée avant l'heure limite : elle a \
             été annulée automatiquement le {} et les places ont été libérées.",
            number(facts.number),
            facts.child_first_name,
            paris(expired_at)
        ),
        facts.summary(),
        "Vous pouvez réserver à nouveau ces jours depuis le portail famille, s'il reste des \
         places."
            .to_string(),
    ];
    notice(
        NoticeKind::ReservationExpired,
        town,
        format!(
            "réservation N° {} annulée faute de paiement",
            number(facts.number)
        ),
        &lines,
    )
}

/// A reservation's payment arrived.
pub fn payment_received(
    town: &Town,
    facts: &ReservationFacts,
    amount: Decimal,
    paid_at: DateTime<Utc>,
) -> Notice {
    let lines = vec![
        format!(
            "Nous avons bien reçu votre paiement de {} le {} pour la réservation N° {} : elle \
             est validée.",
            french_euros(amount),
            paris(paid_at),
            number(facts.number)
        ),
        facts.summary(),
    ];
    notice(
        NoticeKind::PaymentReceived,
        town,
        format!(
            "paiement reçu pour la réservation N° {}",
            number(facts.number)
        ),
        &lines,
    )
}

/// A prepaid hold's payment deadline is near (once, `CANTINE_HOLD_REMINDER_MINUTES` before).
pub fn hold_reminder(
    town: &Town,
    facts: &ReservationFacts,
    total: Decimal,
    pay_before: DateTime<Utc>,
) -> Notice {
    let lines = vec![
        format!(
            "Votre réservation N° {} pour {} n'est pas encore réglée : il vous reste jusqu'au {} \
             (heure de Paris) pour la payer dans « Mon panier » du portail famille.",
            number(facts.number),
            facts.child_first_name,
            paris(pay_before)
        ),
        facts.summary(),
        format!("Montant : {}", french_euros(total)),
        "Sans paiement à cette heure, elle sera annulée automatiquement et les places libérées."
            .to_string(),
    ];
    notice(
        NoticeKind::HoldReminder,
        town,
        format!(
            "réservation N° {} à régler avant {}",
            number(facts.number),
            pay_before.with_timezone(&Paris).format("%H:%M")
        ),
        &lines,
    )
}

/// A month's invoice of billed-later meals.
pub fn invoice_issued(
    town: &Town,
    invoice_number: &str,
    month: Option<&str>,
    total: Decimal,
) -> Notice {
    let month = month.map(|m| format!(" ({m})")).unwrap_or_default();
    let lines = vec![
        format!(
            "La facture mensuelle n° {invoice_number} de la restauration scolaire{month} a été \
             émise. Montant : {}.",
            french_euros(total)
        ),
        "Vous la trouverez dans « Mes factures » du portail famille, où vous pouvez la régler \
         en ligne ; vous pouvez aussi la régler au service des finances."
            .to_string(),
    ];
    notice(
        NoticeKind::InvoiceIssued,
        town,
        format!("facture n° {invoice_number} émise"),
        &lines,
    )
}

/// A credit note (days cancelled that were paid or billed).
pub fn credit_note(town: &Town, note_number: &str, total: Decimal) -> Notice {
    let lines = vec![
        format!(
            "Un avoir n° {note_number} de {} a été émis à votre nom pour des repas annulés.",
            french_euros(total)
        ),
        "Il sera déduit de votre prochain paiement ; vous le trouverez dans « Mes factures » du \
         portail famille."
            .to_string(),
    ];
    notice(
        NoticeKind::CreditNote,
        town,
        format!("avoir n° {note_number}"),
        &lines,
    )
}

/// A freed place went to the child first in line.
pub fn waitlist_place_offered(
    town: &Town,
    facts: &ReservationFacts,
    amount: Decimal,
    pay_before: Option<DateTime<Utc>>,
) -> Notice {
    let mut lines = vec![
        format!(
            "Une place s'est libérée : {}, qui était en liste d'attente, a obtenu une place \
             (réservation N° {}).",
            facts.child_first_name,
            number(facts.number)
        ),
        facts.summary(),
        format!("Montant : {}", french_euros(amount)),
    ];
    match pay_before {
        Some(deadline) => lines.push(format!(
            "Réglez-la avant le {} (heure de Paris) dans « Mon panier » du portail famille : \
             sans paiement à cette heure, elle sera annulée automatiquement et la place \
             proposée à l'enfant suivant.",
            paris(deadline)
        )),
        None => lines.push(
            "Le repas est réservé ; il vous sera facturé en fin de mois, sur votre facture \
             mensuelle."
                .to_string(),
        ),
    }
    notice(
        NoticeKind::WaitlistPlaceOffered,
        town,
        format!(
            "une place pour {} (liste d'attente)",
            facts.child_first_name
        ),
        &lines,
    )
}

/// An unpaid monthly invoice followed up (the first or the second, last, reminder).
#[allow(clippy::too_many_arguments)]
pub fn invoice_reminder(
    town: &Town,
    level: u8,
    invoice_number: &str,
    month: Option<&str>,
    age_days: i64,
    due: Decimal,
    total: Decimal,
    link: &str,
) -> Notice {
    let month = month.map(|m| format!(" ({m})")).unwrap_or_default();
    let lines = vec![
        format!(
            "La facture n° {invoice_number} de la restauration scolaire{month}, émise il y a \
             {age_days} jours, reste à régler : {} sur {}.",
            french_euros(due),
            french_euros(total)
        ),
        format!(
            "Vous pouvez la payer en ligne sur le portail famille ({link}), ou au service des \
             finances par chèque, en espèces ou par virement."
        ),
        "Si vous l'avez réglée entre-temps, merci de ne pas tenir compte de ce message."
            .to_string(),
    ];
    let subject = match level {
        1 => format!("Rappel : facture n° {invoice_number} à régler"),
        _ => format!("Second rappel : facture n° {invoice_number} à régler"),
    };
    let mut n = notice(NoticeKind::InvoiceReminder, town, subject.clone(), &lines);
    // As month close has always titled them: the reminder first.
    n.subject = format!("{subject} ({})", town.name);
    n
}

/// A monthly invoice's SEPA debit, announced (pre-notified) the day its batch is made, 14 days
/// or more before the bank debits it.
pub fn sepa_prenotification(
    town: &Town,
    invoices: &[String],
    amount: Decimal,
    collection_date: NaiveDate,
    rum: &str,
) -> Notice {
    let lines = vec![
        format!(
            "Votre facture {} de {} sera prélevée sur votre compte le {} ou dans les jours qui \
             suivent (mandat de prélèvement SEPA {rum}).",
            invoices.join(", "),
            french_euros(amount),
            collection_date.format("%d/%m/%Y"),
        ),
        "Pour toute question, ou si ce montant vous semble erroné, adressez-vous au service des \
         finances avant cette date."
            .to_string(),
    ];
    notice(
        NoticeKind::SepaPrenotification,
        town,
        format!(
            "prélèvement de {} le {}",
            french_euros(amount),
            collection_date.format("%d/%m/%Y")
        ),
        &lines,
    )
}

/// Escapes text for HTML.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML alternative of a plain-text message: one paragraph per block, line breaks kept.
pub fn html_of_text(text: &str) -> String {
    let paragraphs: String = text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>\n", escape_html(p).replace('\n', "<br>\n")))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"></head>\
         <body>\n{paragraphs}</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn town() -> Town {
        Town {
            name: "Terre de Camargue".into(),
            address: "13 rue du Port, 30220 Aigues-Mortes".into(),
        }
    }

    fn facts() -> ReservationFacts {
        ReservationFacts {
            number: 14,
            child_first_name: "Léa".into(),
            child_last_name: "Dupont".into(),
            restaurant: "Le Repausset".into(),
            period_label: "Restauration Le Repausset 2016-2017".into(),
            days: ["2017-01-23", "2017-01-24", "2017-01-27", "2017-01-31"]
                .iter()
                .map(|d| d.parse().unwrap())
                .collect(),
        }
    }

    #[test]
    fn a_prepaid_confirmation_gives_the_amount_and_the_paris_deadline() {
        let n = reservation_confirmed(
            &town(),
            &facts(),
            dec!(16.6),
            Some("2017-01-11T14:38:00Z".parse().unwrap()),
        );
        assert_eq!(
            n.subject,
            "Terre de Camargue : réservation N° 00014 confirmée"
        );
        assert!(n.text.contains("Montant : 16,60 €"), "{}", n.text);
        assert!(n.text.contains("avant le 11/01/2017 à 15:38"), "{}", n.text);
        assert!(n.text.contains("4 jours du 23/01/2017 au 31/01/2017"));
        assert!(n.text.contains("13 rue du Port, 30220 Aigues-Mortes"));
        assert!(n.html.contains("<p>Montant : 16,60 €</p>") || n.html.contains("16,60 €"));
    }

    #[test]
    fn a_billed_later_confirmation_says_the_month_invoice() {
        let n = reservation_confirmed(&town(), &facts(), dec!(4.97), None);
        assert!(n.text.contains("facturés en fin de mois"));
        assert!(!n.text.contains("avant le"));
    }

    #[test]
    fn expiry_and_payment_are_told_in_french() {
        let at = "2017-01-11T14:38:00Z".parse().unwrap();
        let expired = reservation_expired(&town(), &facts(), at);
        assert!(expired
            .text
            .contains("annulée automatiquement le 11/01/2017 à 15:38"));
        let paid = payment_received(&town(), &facts(), dec!(16.6), at);
        assert!(paid
            .text
            .contains("Nous avons bien reçu votre paiement de 16,60 €"));
        assert_eq!(paid.kind.code(), "payment_received");
    }
}
