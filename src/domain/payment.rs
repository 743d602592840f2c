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

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PaymentStarted {
    pub payment_id: Uuid,
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    pub allocations: Vec<Allocation>,
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

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum PaymentEvent {
    PaymentStarted(PaymentStarted),
    PaymentSucceeded(PaymentSucceeded),
    PaymentFailed(PaymentFailed),
    RefundDue(RefundDue),
}

impl PaymentEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            PaymentEvent::PaymentStarted(_) => "PaymentStarted",
            PaymentEvent::PaymentSucceeded(_) => "PaymentSucceeded",
            PaymentEvent::PaymentFailed(_) => "PaymentFailed",
            PaymentEvent::RefundDue(_) => "RefundDue",
        }
    }
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
