//! Invoices. An invoice is an `InvoiceIssued` event: its number belongs to the log, so a replay
//! can never renumber it, and an issued invoice never changes (a correction is a credit note).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const AGGREGATE_TYPE: &str = "Invoice";
pub const EVENT_TYPE: &str = "InvoiceIssued";
pub const EVENT_VERSION: &str = "1.0";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Issuer {
    pub id: Uuid,
    pub name: String,
    pub address: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceKind {
    /// Prepaid: issued when a payment succeeds, already settled.
    Payment,
    /// Billed later: one per family and month, to be paid.
    Monthly,
    /// Paid days cancelled in time: what the family is credited, to be used by its next
    /// payment. Lines and total are the amounts credited (positive).
    CreditNote,
}

impl InvoiceKind {
    pub fn parse(text: &str) -> Option<Self> {
        [
            InvoiceKind::Payment,
            InvoiceKind::Monthly,
            InvoiceKind::CreditNote,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            InvoiceKind::Payment => "payment",
            InvoiceKind::Monthly => "monthly",
            InvoiceKind::CreditNote => "credit_note",
        }
    }

    /// Invoices and credit notes are numbered in separate series, each without gaps.
    pub fn series(self) -> &'static str {
        match self {
            InvoiceKind::CreditNote => "credit_note",
            InvoiceKind::Payment | InvoiceKind::Monthly => "invoice",
        }
    }

    /// `2017-000001` for invoices, `AV-2017-000001` (avoir) for credit notes.
    pub fn number(self, year: i32, sequence: i64) -> String {
        format!("{}{sequence:06}", self.number_prefix(year))
    }

    /// What comes before the sequence: `2017-`, `AV-2017-`.
    pub fn number_prefix(self, year: i32) -> String {
        match self {
            InvoiceKind::CreditNote => format!("AV-{year}-"),
            InvoiceKind::Payment | InvoiceKind::Monthly => format!("{year}-"),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct InvoiceLine {
    pub reservation_id: Uuid,
    pub reservation_number: String,
    pub child: String,
    pub restaurant: String,
    pub period: String,
    pub days: Vec<NaiveDate>,
    pub quantity: u32,
    pub unit_price: Decimal,
    pub amount: Decimal,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct InvoiceIssued {
    pub invoice_id: Uuid,
    pub number: String,
    pub issuer: Issuer,
    pub family_id: Uuid,
    pub family_name: String,
    pub kind: InvoiceKind,
    pub payment_id: Option<Uuid>,
    /// `YYYY-MM`, for monthly invoices.
    pub month: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub lines: Vec<InvoiceLine>,
    pub total: Decimal,
}

/// A reminder e-mailed for an unpaid monthly invoice: the invoice's second event (first
/// reminder) or third (second reminder), so each is sent once. The invoice itself is unchanged.
pub const REMINDER_EVENT_TYPE: &str = "InvoiceReminderSent";
pub const REMINDER_EVENT_VERSION: &str = "1.0";

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct InvoiceReminderSent {
    pub invoice_id: Uuid,
    pub number: String,
    pub family_id: Uuid,
    /// 1 for the first reminder, 2 for the second.
    pub level: u8,
    /// What was left to pay on it.
    pub due: Decimal,
    pub sent_at: DateTime<Utc>,
}

/// Which reminder an invoice unpaid for `age_days` needs, given those already sent: the first
/// after `first_days`, the second after `second_days` (never both at once).
pub fn reminder_due(age_days: i64, sent: u8, first_days: u32, second_days: u32) -> Option<u8> {
    match sent {
        0 if age_days >= i64::from(first_days) => Some(1),
        1 if age_days >= i64::from(second_days) => Some(2),
        _ => None,
    }
}

/// What is to be invoiced, before it has a number.
#[derive(Clone, Debug)]
pub struct InvoiceDraft {
    pub invoice_id: Uuid,
    pub issuer: Issuer,
    pub family_id: Uuid,
    pub family_name: String,
    pub kind: InvoiceKind,
    pub payment_id: Option<Uuid>,
    pub month: Option<String>,
    pub lines: Vec<InvoiceLine>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InvoiceError {
    #[error("an invoice needs at least one line")]
    NoLines,
    #[error("line {0}: the amount is not quantity × unit price")]
    LineMismatch(usize),
}

/// Numbers run per organisation and year: `2017-000001`.
pub fn format_number(year: i32, sequence: i64) -> String {
    format!("{year}-{sequence:06}")
}

/// One line per reservation and unit price: the days of `days` with their prices.
pub fn lines_for(
    reservation_id: Uuid,
    reservation_number: &str,
    child: &str,
    restaurant: &str,
    period: &str,
    days: &[(NaiveDate, Decimal)],
) -> Vec<InvoiceLine> {
    let mut prices: Vec<Decimal> = days.iter().map(|(_, p)| *p).collect();
    prices.sort();
    prices.dedup();
    prices
        .into_iter()
        .map(|unit_price| {
            let mut dates: Vec<NaiveDate> = days
                .iter()
                .filter(|(_, p)| *p == unit_price)
                .map(|(d, _)| *d)
                .collect();
            dates.sort();
            let quantity = dates.len() as u32;
            InvoiceLine {
                reservation_id,
                reservation_number: reservation_number.to_string(),
                child: child.to_string(),
                restaurant: restaurant.to_string(),
                period: period.to_string(),
                days: dates,
                quantity,
                unit_price,
                amount: unit_price * Decimal::from(quantity),
            }
        })
        .collect()
}

/// Gives the draft its number and checks it adds up.
pub fn issue(
    draft: InvoiceDraft,
    number: String,
    issued_at: DateTime<Utc>,
) -> Result<InvoiceIssued, InvoiceError> {
    if draft.lines.is_empty() {
        return Err(InvoiceError::NoLines);
    }
    if let Some(i) = draft.lines.iter().position(|l| {
        l.amount != l.unit_price * Decimal::from(l.quantity) || l.quantity as usize != l.days.len()
    }) {
        return Err(InvoiceError::LineMismatch(i));
    }
    let total = draft.lines.iter().map(|l| l.amount).sum();
    Ok(InvoiceIssued {
        invoice_id: draft.invoice_id,
        number,
        issuer: draft.issuer,
        family_id: draft.family_id,
        family_name: draft.family_name,
        kind: draft.kind,
        payment_id: draft.payment_id,
        month: draft.month,
        issued_at,
        lines: draft.lines,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn draft(lines: Vec<InvoiceLine>) -> InvoiceDraft {
        InvoiceDraft {
            invoice_id: Uuid::nil(),
            issuer: Issuer {
                id: Uuid::nil(),
                name: "Terre de Camargue".into(),
                address: "26 Quai des Croisades".into(),
            },
            family_id: Uuid::nil(),
            family_name: "DUPONT".into(),
            kind: InvoiceKind::Payment,
            payment_id: None,
            month: None,
            lines,
        }
    }

    #[test]
    fn lines_group_days_by_price_and_total_exactly() {
        let days: Vec<(NaiveDate, Decimal)> = (1..=17)
            .map(|i| (d("2017-03-01") + chrono::Duration::days(i), dec!(4.15)))
            .collect();
        let lines = lines_for(
            Uuid::nil(),
            "00014",
            "Hervé DUPONT",
            "Le Repausset",
            "2016-2017",
            &days,
        );
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].quantity, 17);
        assert_eq!(lines[0].amount, dec!(70.55));
        let invoice = issue(draft(lines), format_number(2017, 1), Utc::now()).unwrap();
        assert_eq!(invoice.number, "2017-000001");
        assert_eq!(invoice.total, dec!(70.55));
    }

    #[test]
    fn reminders_come_after_their_delays_one_at_a_time() {
        assert_eq!(reminder_due(14, 0, 15, 30), None);
        assert_eq!(reminder_due(15, 0, 15, 30), Some(1));
        assert_eq!(
            reminder_due(40, 0, 15, 30),
            Some(1),
            "the first before the second"
        );
        assert_eq!(reminder_due(29, 1, 15, 30), None);
        assert_eq!(reminder_due(30, 1, 15, 30), Some(2));
        assert_eq!(reminder_due(90, 2, 15, 30), None);
    }

    #[test]
    fn refuses_an_empty_or_inconsistent_invoice() {
        assert_eq!(
            issue(draft(vec![]), "x".into(), Utc::now()),
            Err(InvoiceError::NoLines)
        );
        let mut lines = lines_for(
            Uuid::nil(),
            "1",
            "c",
            "r",
            "p",
            &[(d("2017-01-23"), dec!(4.15))],
        );
        lines[0].amount = dec!(4.16);
        assert_eq!(
            issue(draft(lines), "x".into(), Utc::now()),
            Err(InvoiceError::LineMismatch(0))
        );
    }
}
