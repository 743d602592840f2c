//! Payments. A payment covers reservations of one family, possibly of several children; the
//! family's credit pays first and the provider is asked for the rest. Its life is a few events
//! (`Payment` aggregate): started, then succeeded or failed by the provider's word, and a refund
//! due for each reservation the money arrived too late to pay.
//!
//! Providers retry, repeat and reorder notifications; [`decide`] says which of them still has
//! an effect, so that each has the effect of one.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const AGGREGATE_TYPE: &str = "Payment";
pub const EVENT_VERSION: &str = "1.0";

/// How long a payer has on the provider's page. A payment still pending after that was left:
/// a new payment of its reservations supersedes it (before, the new one is refused, so that a
/// reservation is in one pending payment at a time).
pub const PROVIDER_SESSION: chrono::Duration = chrono::Duration::minutes(15);

/// One reservation's share of a payment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Allocation {
    pub reservation_id: Uuid,
    pub reservation_number: String,
    pub restaurant: String,
    /// The reservation's total.
    pub total: Decimal,
    /// The part of it paid with the family's credit.
    pub credit: Decimal,
    /// The part of it paid through the provider.
    pub cash: Decimal,
}

/// One invoice's share of a payment (billed-later months): what was left to pay on it when the
/// payment started, and how it is paid.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct InvoiceAllocation {
    pub invoice_id: Uuid,
    pub invoice_number: String,
    /// The restaurant the ledger books the payment to (the invoice's first line's).
    pub restaurant: String,
    /// What was due on the invoice.
    pub total: Decimal,
    pub credit: Decimal,
    pub cash: Decimal,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PaymentStarted {
    pub payment_id: Uuid,
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    pub allocations: Vec<Allocation>,
    /// Invoices paid (since 1.1; none before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invoices: Vec<InvoiceAllocation>,
    /// What the provider is asked for.
    pub amount: Decimal,
    pub credit_used: Decimal,
    pub started_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PaymentSucceeded {
    pub provider_ref: String,
    pub amount: Decimal,
    pub succeeded_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PaymentFailed {
    pub provider_ref: String,
    pub failed_at: DateTime<Utc>,
    /// The credit this payment had set aside, spendable again.
    pub credit_released: Decimal,
}

/// Money received for a reservation that could not be paid (it expired and its places were
/// taken, it was cancelled, or another payment paid it first): the cash goes back to the
/// payer, the credit back to the family.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RefundDue {
    pub reservation_id: Uuid,
    pub reservation_number: String,
    pub restaurant: String,
    pub amount: Decimal,
    pub credit_restored: Decimal,
    /// The refusal's code: `places_gone`, `already_cancelled`, `already_paid`, …
    pub reason: String,
    pub recorded_at: DateTime<Utc>,
}

/// Money received for an invoice beyond what was left to pay on it when it arrived (another
/// payment or a credit note came first): kept as the family's credit, spent by its next payment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct OverpaymentCredited {
    pub invoice_id: Uuid,
    pub invoice_number: String,
    pub amount: Decimal,
    pub recorded_at: DateTime<Utc>,
}

/// How the finance office was paid at its desk.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeskMethod {
    Cheque,
    Cash,
    Transfer,
}

impl DeskMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            DeskMethod::Cheque => "cheque",
            DeskMethod::Cash => "cash",
            DeskMethod::Transfer => "transfer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [DeskMethod::Cheque, DeskMethod::Cash, DeskMethod::Transfer]
            .into_iter()
            .find(|m| m.as_str() == text)
    }

    /// In the family's ledger and on the receipt.
    pub fn french(self) -> &'static str {
        match self {
            DeskMethod::Cheque => "Chèque",
            DeskMethod::Cash => "Espèces",
            DeskMethod::Transfer => "Virement",
        }
    }

    /// A cheque (its number and bank) and a transfer (its bank reference) are traced.
    pub fn needs_reference(self) -> bool {
        !matches!(self, DeskMethod::Cash)
    }
}

/// A payment received at the finance desk (cheque, cash, bank transfer), recorded by a staff
/// member (the event's actor) with its receipt number, gapless per organisation and year.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DeskPaymentRecorded {
    pub payment_id: Uuid,
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    pub method: DeskMethod,
    pub amount: Decimal,
    /// The cheque's number and bank, the transfer's reference.
    pub reference: String,
    pub receipt_number: String,
    /// What it pays on each invoice (as `cash`).
    pub invoices: Vec<InvoiceAllocation>,
    /// What it paid beyond the invoices: kept as the family's credit.
    pub credit_kept: Decimal,
    /// The restaurant the kept credit is booked to in the ledger.
    pub restaurant: String,
    pub recorded_at: DateTime<Utc>,
}

/// A desk payment entered by mistake, reversed (never deleted): the invoices it paid are due
/// again and the credit it left is taken back. Carries what the ledger needs to undo it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DeskPaymentReversed {
    pub payment_id: Uuid,
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    pub receipt_number: String,
    pub reason: String,
    pub invoices: Vec<InvoiceAllocation>,
    pub credit_taken_back: Decimal,
    pub restaurant: String,
    pub reversed_at: DateTime<Utc>,
}

/// A monthly invoice's debit presented to the family's bank in a SEPA collection batch
/// (`domain::sepa`): the invoice counts as paid from then on, unless the bank rejects it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SepaDebitPresented {
    pub payment_id: Uuid,
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    pub batch_id: Uuid,
    pub mandate_id: Uuid,
    pub rum: String,
    /// `first` or `recurrent` (FRST, RCUR in the file).
    pub sequence: crate::domain::sepa::SequenceType,
    /// The file's `EndToEndId`, which the bank's R-transaction names.
    pub end_to_end_id: String,
    pub amount: Decimal,
    /// What it pays on each invoice (as `cash`).
    pub invoices: Vec<InvoiceAllocation>,
    pub prenotified_on: chrono::NaiveDate,
    pub collection_date: chrono::NaiveDate,
    pub presented_at: DateTime<Utc>,
}

/// A debit the family's bank rejected or returned (an R-transaction) with its ISO reason code:
/// the invoices it paid are due again.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SepaDebitRejected {
    pub payment_id: Uuid,
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    pub end_to_end_id: String,
    /// `AM04`, `AC04`, `MD01`, … (`domain::sepa::REASON_CODES`).
    pub reason_code: String,
    pub reason: String,
    /// Where it came from: `manual`, or the R-file's name and message id.
    pub source: String,
    pub amount: Decimal,
    pub invoices: Vec<InvoiceAllocation>,
    pub rejected_at: DateTime<Utc>,
}

/// A family's credit (avoirs) paid back to it by bank transfer, recorded by finance: the
/// credit is spent, the ledger and the refunds export show it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CreditRefunded {
    pub refund_id: Uuid,
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    pub amount: Decimal,
    /// The transfer's reference.
    pub reference: String,
    /// The restaurant the ledger books it to (the family's latest credit's).
    pub restaurant: String,
    pub refunded_at: DateTime<Utc>,
}

/// Spreads a desk payment of `amount` over the invoices in the order given, each up to what is
/// left on it; the rest is kept as credit.
pub fn allocate_desk(
    amount: Decimal,
    invoices: &[PayableInvoice],
) -> (Vec<InvoiceAllocation>, Decimal) {
    let mut left = amount.max(Decimal::ZERO);
    let allocations = invoices
        .iter()
        .filter_map(|i| {
            let paying = left.min(i.due);
            left -= paying;
            (paying > Decimal::ZERO).then(|| InvoiceAllocation {
                invoice_id: i.invoice_id,
                invoice_number: i.invoice_number.clone(),
                restaurant: i.restaurant.clone(),
                total: i.due,
                credit: Decimal::ZERO,
                cash: paying,
            })
        })
        .collect();
    (allocations, left)
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum PaymentEvent {
    PaymentStarted(PaymentStarted),
    PaymentSucceeded(PaymentSucceeded),
    PaymentFailed(PaymentFailed),
    RefundDue(RefundDue),
    OverpaymentCredited(OverpaymentCredited),
    DeskPaymentRecorded(DeskPaymentRecorded),
    DeskPaymentReversed(DeskPaymentReversed),
    SepaDebitPresented(SepaDebitPresented),
    SepaDebitRejected(SepaDebitRejected),
    CreditRefunded(CreditRefunded),
}

impl PaymentEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            PaymentEvent::PaymentStarted(_) => "PaymentStarted",
            PaymentEvent::PaymentSucceeded(_) => "PaymentSucceeded",
            PaymentEvent::PaymentFailed(_) => "PaymentFailed",
            PaymentEvent::RefundDue(_) => "RefundDue",
            PaymentEvent::OverpaymentCredited(_) => "OverpaymentCredited",
            PaymentEvent::DeskPaymentRecorded(_) => "DeskPaymentRecorded",
            PaymentEvent::DeskPaymentReversed(_) => "DeskPaymentReversed",
            PaymentEvent::SepaDebitPresented(_) => "SepaDebitPresented",
            PaymentEvent::SepaDebitRejected(_) => "SepaDebitRejected",
            PaymentEvent::CreditRefunded(_) => "CreditRefunded",
        }
    }

    /// PaymentStarted 1.1 may pay invoices; the others keep 1.0.
    pub fn event_version(&self) -> &'static str {
        match self {
            PaymentEvent::PaymentStarted(_) => "1.1",
            _ => EVENT_VERSION,
        }
    }
}

/// An invoice still to pay, as a payment sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct PayableInvoice {
    pub invoice_id: Uuid,
    pub invoice_number: String,
    pub restaurant: String,
    /// What is left to pay on it.
    pub due: Decimal,
}

/// Spends what is left of `credit` on the invoices in the order given (after the reservations'
/// share, see [`allocate`]); the provider is asked for the rest.
pub fn allocate_invoices(invoices: &[PayableInvoice], credit: Decimal) -> Vec<InvoiceAllocation> {
    let mut left = credit.max(Decimal::ZERO);
    invoices
        .iter()
        .map(|i| {
            let from_credit = left.min(i.due);
            left -= from_credit;
            InvoiceAllocation {
                invoice_id: i.invoice_id,
                invoice_number: i.invoice_number.clone(),
                restaurant: i.restaurant.clone(),
                total: i.due,
                credit: from_credit,
                cash: i.due - from_credit,
            }
        })
        .collect()
}

/// What a payment of `paying` on an invoice of `total` already paid `paid_before` by others
/// leaves over: kept as credit.
pub fn overpayment(total: Decimal, paid_before: Decimal, paying: Decimal) -> Decimal {
    (paid_before + paying - total)
        .max(Decimal::ZERO)
        .min(paying)
}

/// What a reservation costs, as the payment sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Payable {
    pub reservation_id: Uuid,
    pub reservation_number: String,
    pub restaurant: String,
    pub total: Decimal,
}

/// Spends `credit` on the reservations in the order given; the provider is asked for the rest.
pub fn allocate(payables: &[Payable], credit: Decimal) -> Vec<Allocation> {
    let mut left = credit.max(Decimal::ZERO);
    payables
        .iter()
        .map(|p| {
            let from_credit = left.min(p.total);
            left -= from_credit;
            Allocation {
                reservation_id: p.reservation_id,
                reservation_number: p.reservation_number.clone(),
                restaurant: p.restaurant.clone(),
                total: p.total,
                credit: from_credit,
                cash: p.total - from_credit,
            }
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    Pending,
    Succeeded,
    Failed,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(PaymentStatus::Pending),
            "succeeded" => Some(PaymentStatus::Succeeded),
            "failed" => Some(PaymentStatus::Failed),
            _ => None,
        }
    }
}

/// A payment status read back from storage that the domain does not know.
#[derive(Debug, thiserror::Error)]
#[error("unknown payment status {0:?}")]
pub struct UnknownPaymentStatus(pub String);

/// The payments table keeps the status as its text; reading it back checks it.
impl TryFrom<String> for PaymentStatus {
    type Error = UnknownPaymentStatus;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text).ok_or(UnknownPaymentStatus(text))
    }
}

/// What a notification does to a payment in `current` status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Record the outcome (an event and the new status).
    Record(PaymentStatus),
    /// The payment already has this outcome: a repeat. Nothing new is recorded, but the work
    /// that follows a success is finished if a crash interrupted it.
    Repeat,
    /// A failure reported after the success: the money is in, the success stands.
    IgnoreLateFailure,
}

pub fn decide(current: PaymentStatus, outcome: PaymentStatus) -> Decision {
    use PaymentStatus::*;
    match (current, outcome) {
        (Pending, Pending) | (Succeeded, Succeeded) | (Failed, Failed) | (Failed, Pending) => {
            Decision::Repeat
        }
        (Succeeded, Failed) | (Succeeded, Pending) => Decision::IgnoreLateFailure,
        // A provider may retry a declined card and then succeed: the money counts.
        (Pending, outcome) | (Failed, outcome) => Decision::Record(outcome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn payable(total: i64) -> Payable {
        Payable {
            reservation_id: Uuid::new_v4(),
            reservation_number: "00001".into(),
            restaurant: "Le Repausset".into(),
            total: Decimal::new(total, 2),
        }
    }

    #[test]
    fn credit_pays_the_first_reservations_first() {
        let allocations = allocate(&[payable(830), payable(415)], Decimal::new(500, 2));
        assert_eq!(allocations[0].credit, Decimal::new(500, 2));
        assert_eq!(allocations[0].cash, Decimal::new(330, 2));
        assert_eq!(allocations[1].credit, Decimal::ZERO);
        assert_eq!(allocations[1].cash, Decimal::new(415, 2));
    }

    #[test]
    fn notifications_have_the_effect_of_one() {
        use PaymentStatus::*;
        assert_eq!(decide(Pending, Succeeded), Decision::Record(Succeeded));
        assert_eq!(decide(Pending, Failed), Decision::Record(Failed));
        assert_eq!(decide(Succeeded, Succeeded), Decision::Repeat);
        assert_eq!(decide(Failed, Failed), Decision::Repeat);
        assert_eq!(decide(Succeeded, Failed), Decision::IgnoreLateFailure);
        assert_eq!(decide(Failed, Succeeded), Decision::Record(Succeeded));
    }

    #[test]
    fn credit_pays_invoices_after_reservations_and_an_overpayment_is_kept() {
        let invoice = |due: i64| PayableInvoice {
            invoice_id: Uuid::new_v4(),
            invoice_number: "2026-000001".into(),
            restaurant: "Jean Jaurès".into(),
            due: Decimal::new(due, 2),
        };
        let reservations = allocate(&[payable(415)], Decimal::new(900, 2));
        let left = Decimal::new(900, 2) - reservations[0].credit;
        let invoices = allocate_invoices(&[invoice(994)], left);
        assert_eq!(invoices[0].credit, Decimal::new(485, 2));
        assert_eq!(invoices[0].cash, Decimal::new(509, 2));
        // 9.94 due, 4.97 paid by another payment meanwhile, 9.94 arrives: 4.97 kept.
        let kept = overpayment(
            Decimal::new(994, 2),
            Decimal::new(497, 2),
            Decimal::new(994, 2),
        );
        assert_eq!(kept, Decimal::new(497, 2));
        assert_eq!(
            overpayment(Decimal::new(994, 2), Decimal::ZERO, Decimal::new(497, 2)),
            Decimal::ZERO
        );
    }

    #[test]
    fn a_desk_payment_pays_invoices_in_order_and_keeps_the_rest() {
        let invoice = |due: i64| PayableInvoice {
            invoice_id: Uuid::new_v4(),
            invoice_number: "2027-000001".into(),
            restaurant: "Jean Jaurès".into(),
            due: Decimal::new(due, 2),
        };
        let (paid, kept) = allocate_desk(Decimal::new(1500, 2), &[invoice(994), invoice(994)]);
        assert_eq!(paid.len(), 2);
        assert_eq!(paid[0].cash, Decimal::new(994, 2));
        assert_eq!(paid[1].cash, Decimal::new(506, 2));
        assert_eq!(kept, Decimal::ZERO);
        let (paid, kept) = allocate_desk(Decimal::new(2000, 2), &[invoice(994)]);
        assert_eq!((paid.len(), kept), (1, Decimal::new(1006, 2)));
    }

    proptest! {
        #[test]
        fn allocation_never_spends_more_than_owed_or_held(
            totals in proptest::collection::vec(0i64..5_000, 1..6),
            credit in -100i64..20_000,
        ) {
            let payables: Vec<Payable> = totals.iter().map(|t| payable(*t)).collect();
            let allocations = allocate(&payables, Decimal::new(credit, 2));
            let owed: Decimal = payables.iter().map(|p| p.total).sum();
            let spent: Decimal = allocations.iter().map(|a| a.credit).sum();
            let cash: Decimal = allocations.iter().map(|a| a.cash).sum();
            prop_assert_eq!(spent + cash, owed);
            prop_assert_eq!(spent, owed.min(Decimal::new(credit, 2).max(Decimal::ZERO)));
            for a in &allocations {
                prop_assert!(a.credit >= Decimal::ZERO && a.cash >= Decimal::ZERO);
                prop_assert_eq!(a.credit + a.cash, a.total);
            }
        }
    }
}
