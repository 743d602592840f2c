//! A cancellation past the family's cut-off, granted by the town's staff for a reason from a
//! fixed list, and what the family gets back for it.
//!
//! The rule (the same for every period; a paid day is one the family has already paid for):
//!
//! | reason | paid day | day not paid (awaiting payment, or billed later) |
//! |---|---|---|
//! | medical certificate | credit note (avoir, spent by the next payment) | nothing to give back: the day is not charged |
//! | school outing | credit note | nothing to give back |
//! | strike | refund (credit note, then paid back by transfer) | nothing to give back |
//! | closure | refund | nothing to give back |
//!
//! The town's own failures (a strike, a closure) are paid back; the family's or the school's
//! reasons become credit for later meals.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum LateReason {
    MedicalCertificate,
    Strike,
    SchoolOuting,
    Closure,
}

impl LateReason {
    pub const ALL: [LateReason; 4] = [
        LateReason::MedicalCertificate,
        LateReason::Strike,
        LateReason::SchoolOuting,
        LateReason::Closure,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            LateReason::MedicalCertificate => "medical_certificate",
            LateReason::Strike => "strike",
            LateReason::SchoolOuting => "school_outing",
            LateReason::Closure => "closure",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    pub const fn french(self) -> &'static str {
        match self {
            LateReason::MedicalCertificate => "Certificat médical",
            LateReason::Strike => "Grève",
            LateReason::SchoolOuting => "Sortie scolaire",
            LateReason::Closure => "Fermeture",
        }
    }

    /// What the family gets back for days cancelled late for this reason.
    pub const fn outcome(self, paid: bool) -> LateOutcome {
        if !paid {
            return LateOutcome::Nothing;
        }
        match self {
            LateReason::MedicalCertificate | LateReason::SchoolOuting => LateOutcome::CreditNote,
            LateReason::Strike | LateReason::Closure => LateOutcome::Refund,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LateOutcome {
    /// The days' price becomes credit (a credit note), spent by the family's next payment.
    CreditNote,
    /// A credit note, and the amount is owed back to the family (paid by finance).
    Refund,
    /// Nothing was paid for the days: nothing to give back.
    Nothing,
}

impl LateOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            LateOutcome::CreditNote => "credit_note",
            LateOutcome::Refund => "refund",
            LateOutcome::Nothing => "nothing",
        }
    }

    pub const fn french(self) -> &'static str {
        match self {
            LateOutcome::CreditNote => "Avoir",
            LateOutcome::Refund => "Remboursement",
            LateOutcome::Nothing => "Rien à rendre (jours non payés)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_towns_failures_are_refunded_and_the_rest_credited_and_unpaid_days_give_nothing() {
        use LateOutcome::*;
        use LateReason::*;
        assert_eq!(MedicalCertificate.outcome(true), CreditNote);
        assert_eq!(SchoolOuting.outcome(true), CreditNote);
        assert_eq!(Strike.outcome(true), Refund);
        assert_eq!(Closure.outcome(true), Refund);
        for reason in LateReason::ALL {
            assert_eq!(reason.outcome(false), Nothing);
            assert_eq!(LateReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(LateReason::parse("vacances"), None);
    }
}
