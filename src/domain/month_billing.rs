//! Billing a month of billed-later meals, and keeping it right afterwards.
//!
//! A month is billed once it has ended (by the injected clock), or up to a day already served
//! when finance asks for it explicitly. Every run compares what the log says is due (the days
//! booked and not cancelled) with what the month's documents already bill (its invoices minus
//! its credit notes), and issues the difference: a (supplementary) invoice for days due and not
//! billed, a credit note for days billed and no longer due. An issued document is never edited,
//! so for every family and month: invoiced − credited = the meals booked and not cancelled.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::invoice::{lines_for, InvoiceIssued, InvoiceKind, InvoiceLine, Issuer};
use super::period::month_bounds;

/// Why a month cannot be billed now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotDue {
    #[error("the month must be written YYYY-MM, e.g. 2026-12")]
    BadMonth,
    #[error(
        "{month} has not ended yet (today is {today} by the service's clock): its invoices can be \
         issued from {next}, or now for the days already served with --served-until {yesterday}"
    )]
    MonthNotEnded {
        month: String,
        today: NaiveDate,
        next: NaiveDate,
        yesterday: NaiveDate,
    },
    #[error("--served-until {date} is not a day of {month}")]
    OutsideMonth { date: NaiveDate, month: String },
    #[error(
        "--served-until {date} has not been served yet (today is {today} by the service's clock): \
         only days before today can be billed"
    )]
    NotServed { date: NaiveDate, today: NaiveDate },
}

/// The last day of `month` that may be billed today: the month's last day once it has ended,
/// or `served_until`, a day of the month before today.
pub fn billing_cutoff(
    month: &str,
    served_until: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<NaiveDate, NotDue> {
    let (first, last) = month_bounds(month).ok_or(NotDue::BadMonth)?;
    match served_until {
        None if last < today => Ok(last),
        None => Err(NotDue::MonthNotEnded {
            month: month.to_string(),
            today,
            next: last.succ_opt().unwrap_or(last),
            yesterday: today.pred_opt().unwrap_or(today),
        }),
        Some(date) if date < first || date > last => Err(NotDue::OutsideMonth {
            date,
            month: month.to_string(),
        }),
        Some(date) if date >= today => Err(NotDue::NotServed { date, today }),
        Some(date) => Ok(date),
    }
}

/// `YYYY-MM` of a day.
pub fn month_of(date: NaiveDate) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

/// One meal day the log says is booked and not cancelled, with what its lines print.
#[derive(Clone, Debug, PartialEq)]
pub struct DueDay {
    pub reservation_id: Uuid,
    pub reservation_number: String,
    pub child: String,
    pub restaurant: String,
    pub period: String,
    pub issuer: Issuer,
    pub date: NaiveDate,
    pub unit_price: Decimal,
}

/// A document to issue for the month: an invoice of days due and not billed, or a credit note
/// of days billed and no longer due, for one issuer.
#[derive(Clone, Debug, PartialEq)]
pub struct Correction {
    pub issuer: Issuer,
    pub kind: InvoiceKind,
    pub lines: Vec<InvoiceLine>,
}

impl Correction {
    pub fn total(&self) -> Decimal {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

/// What a family's month still needs. `due` is every day of the month the log says is booked
/// and not cancelled; `issued` the month's documents so far (invoices and credit notes);
/// `cutoff` the last day to invoice now (`None`: credit notes only, as after a cancellation).
/// Credit notes come first, then invoices, each per issuer in the order of their names.
pub fn corrections(
    due: &[DueDay],
    issued: &[InvoiceIssued],
    cutoff: Option<NaiveDate>,
) -> Vec<Correction> {
    // Each (reservation, day) billed so far: net count, with the line it was billed on.
    let mut billed: BTreeMap<(Uuid, NaiveDate), (i32, DueDay)> = BTreeMap::new();
    for document in issued {
        let sign = match document.kind {
            InvoiceKind::Monthly | InvoiceKind::Payment => 1,
            InvoiceKind::CreditNote => -1,
        };
        for line in &document.lines {
            for date in &line.days {
                let entry = billed
                    .entry((line.reservation_id, *date))
                    .or_insert_with(|| {
                        (
                            0,
                            DueDay {
                                reservation_id: line.reservation_id,
                                reservation_number: line.reservation_number.clone(),
                                child: line.child.clone(),
                                restaurant: line.restaurant.clone(),
                                period: line.period.clone(),
                                issuer: document.issuer.clone(),
                                date: *date,
                                unit_price: line.unit_price,
                            },
                        )
                    });
                entry.0 += sign;
            }
        }
    }
    let is_due = |reservation_id: Uuid, date: NaiveDate| {
        due.iter()
            .any(|d| d.reservation_id == reservation_id && d.date == date)
    };
    let to_credit: Vec<DueDay> = billed
        .values()
        .filter(|(count, day)| *count > 0 && !is_due(day.reservation_id, day.date))
        .map(|(_, day)| day.clone())
        .collect();
    let to_invoice: Vec<DueDay> = match cutoff {
        None => Vec::new(),
        Some(cutoff) => due
            .iter()
            .filter(|d| d.date <= cutoff)
            .filter(|d| {
                billed
                    .get(&(d.reservation_id, d.date))
                    .is_none_or(|(count, _)| *count <= 0)
            })
            .cloned()
            .collect(),
    };
    let mut out = documents(InvoiceKind::CreditNote, &to_credit);
    out.extend(documents(InvoiceKind::Monthly, &to_invoice));
    out
}

/// One document per issuer, one line per reservation and price.
fn documents(kind: InvoiceKind, days: &[DueDay]) -> Vec<Correction> {
    let mut issuers: Vec<&Issuer> = Vec::new();
    for day in days {
        if !issuers.contains(&&day.issuer) {
            issuers.push(&day.issuer);
        }
    }
    issuers.sort_by(|a, b| (&a.name, &a.address).cmp(&(&b.name, &b.address)));
    issuers
        .into_iter()
        .map(|issuer| {
            let mine: Vec<&DueDay> = days.iter().filter(|d| &d.issuer == issuer).collect();
            // By reservation number, as families read them.
            let mut reservations: Vec<(&str, Uuid)> = mine
                .iter()
                .map(|d| (d.reservation_number.as_str(), d.reservation_id))
                .collect();
            reservations.sort();
            reservations.dedup();
            let lines = reservations
                .into_iter()
                .flat_map(|(_, id)| {
                    let of: Vec<&&DueDay> =
                        mine.iter().filter(|d| d.reservation_id == id).collect();
                    let head = of[0];
                    let priced: Vec<(NaiveDate, Decimal)> =
                        of.iter().map(|d| (d.date, d.unit_price)).collect();
                    lines_for(
                        id,
                        &head.reservation_number,
                        &head.child,
                        &head.restaurant,
                        &head.period,
                        &priced,
                    )
                })
                .collect();
            Correction {
                issuer: issuer.clone(),
                kind,
                lines,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::invoice::{issue, InvoiceDraft};
    use rust_decimal_macros::dec;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn issuer(name: &str) -> Issuer {
        Issuer {
            id: Uuid::nil(),
            name: name.into(),
            address: "1 place de la Mairie".into(),
        }
    }

    fn day(reservation: u128, date: &str, who: &str) -> DueDay {
        DueDay {
            reservation_id: Uuid::from_u128(reservation),
            reservation_number: format!("{reservation:05}"),
            child: "Emma GARCIA".into(),
            restaurant: "Jean Jaurès".into(),
            period: "2026-2027".into(),
            issuer: issuer(who),
            date: d(date),
            unit_price: dec!(4.97),
        }
    }

    fn as_issued(correction: &Correction) -> InvoiceIssued {
        issue(
            InvoiceDraft {
                invoice_id: Uuid::now_v7(),
                issuer: correction.issuer.clone(),
                family_id: Uuid::nil(),
                family_name: "GARCIA".into(),
                kind: correction.kind,
                payment_id: None,
                month: Some("2026-12".into()),
                lines: correction.lines.clone(),
            },
            "n".into(),
            chrono::Utc::now(),
        )
        .unwrap()
    }

    #[test]
    fn a_month_is_billed_only_once_it_has_ended_or_up_to_a_served_day() {
        let today = d("2026-12-03");
        let refused = billing_cutoff("2026-12", None, today).unwrap_err();
        assert!(matches!(refused, NotDue::MonthNotEnded { .. }));
        let said = refused.to_string();
        assert!(said.contains("2026-12 has not ended yet"), "{said}");
        assert!(said.contains("--served-until 2026-12-02"), "{said}");
        assert_eq!(
            billing_cutoff("2026-12", Some(d("2026-12-02")), today),
            Ok(d("2026-12-02"))
        );
        assert!(matches!(
            billing_cutoff("2026-12", Some(d("2026-12-03")), today),
            Err(NotDue::NotServed { .. })
        ));
        assert!(matches!(
            billing_cutoff("2026-12", Some(d("2026-11-30")), today),
            Err(NotDue::OutsideMonth { .. })
        ));
        assert_eq!(billing_cutoff("2026-11", None, today), Ok(d("2026-11-30")));
        assert_eq!(
            billing_cutoff("2026-12", None, d("2027-01-01")),
            Ok(d("2026-12-31"))
        );
        assert_eq!(
            billing_cutoff("2026-13", None, today),
            Err(NotDue::BadMonth)
        );
    }

    #[test]
    fn changes_after_billing_give_a_credit_note_or_a_supplementary_invoice() {
        let town = "Ville de Carcassonne";
        let due = vec![day(1, "2026-12-10", town), day(1, "2026-12-17", town)];
        let first = corrections(&due, &[], Some(d("2026-12-31")));
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].kind, InvoiceKind::Monthly);
        assert_eq!(first[0].total(), dec!(9.94));
        let issued = vec![as_issued(&first[0])];
        assert!(corrections(&due, &issued, Some(d("2026-12-31"))).is_empty());

        // 17/12 cancelled, 15/12 booked by another reservation.
        let due = vec![day(1, "2026-12-10", town), day(2, "2026-12-15", town)];
        let credit_only = corrections(&due, &issued, None);
        assert_eq!(credit_only.len(), 1);
        assert_eq!(credit_only[0].kind, InvoiceKind::CreditNote);
        assert_eq!(credit_only[0].lines[0].days, vec![d("2026-12-17")]);
        let mut issued = issued;
        issued.push(as_issued(&credit_only[0]));
        let next_run = corrections(&due, &issued, Some(d("2026-12-31")));
        assert_eq!(next_run.len(), 1);
        assert_eq!(next_run[0].kind, InvoiceKind::Monthly);
        assert_eq!(next_run[0].lines[0].days, vec![d("2026-12-15")]);
        issued.push(as_issued(&next_run[0]));
        assert!(corrections(&due, &issued, Some(d("2026-12-31"))).is_empty());
    }

    #[test]
    fn each_issuer_bills_its_own_restaurants_and_served_days_only() {
        let due = vec![
            day(1, "2026-12-01", "Ville de Carcassonne"),
            day(2, "2026-12-01", "Terre de Camargue"),
            day(2, "2026-12-08", "Terre de Camargue"),
        ];
        let run = corrections(&due, &[], Some(d("2026-12-02")));
        assert_eq!(run.len(), 2);
        assert_eq!(run[0].issuer.name, "Terre de Camargue");
        assert_eq!(run[0].lines[0].days, vec![d("2026-12-01")]);
        assert_eq!(run[1].issuer.name, "Ville de Carcassonne");
    }
}
