//! What the finance office reads: the documents issued over days or a month, the month's
//! payments, the rows of its month-end exports, and the month's reconciliation report, each
//! column checked against its source documents.

use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::day_range::DayRange;
use crate::app::{AppError, AppResult, Cantine};
use crate::db;
use crate::db::finance::{Columns, Span};
use crate::domain::invoice::{InvoiceIssued, InvoiceKind};
use crate::domain::payment::PaymentStatus;
use crate::domain::period::{month_bounds, paris_day, paris_to_utc};
use crate::projections;

/// A month of Paris time, as asked (`YYYY-MM`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    text: String,
    first: NaiveDate,
    last: NaiveDate,
}

impl Month {
    pub fn parse(text: &str) -> AppResult<Month> {
        let (first, last) = month_bounds(text).ok_or_else(|| {
            AppError::bad_input("invalid_parameter", "month must be written YYYY-MM")
        })?;
        Ok(Month {
            text: text.to_string(),
            first,
            last,
        })
    }

    /// The month of this day.
    pub fn containing(day: NaiveDate) -> Month {
        let first = day.with_day(1).expect("the first of the month");
        Self::parse(&first.format("%Y-%m").to_string()).expect("a month written YYYY-MM")
    }

    /// `YYYY-MM`, as asked.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn first(&self) -> NaiveDate {
        self.first
    }

    pub fn last(&self) -> NaiveDate {
        self.last
    }

    fn days(&self) -> DayRange {
        DayRange {
            from: self.first,
            to: self.last,
        }
    }
}

/// The instants of the days [from, to] in Paris: [first midnight, the midnight after the last).
fn span(cantine: &Cantine, days: DayRange) -> Span {
    let midnight = |d: NaiveDate| paris_to_utc(d.and_hms_opt(0, 0, 0).expect("midnight"));
    Span {
        organisation_id: cantine.organisation.id,
        start: midnight(days.from),
        end: midnight(days.to + Duration::days(1)),
    }
}

/// The invoices and credit notes issued over the days (Paris), by number.
pub async fn issued_between(cantine: &Cantine, days: DayRange) -> AppResult<Vec<InvoiceIssued>> {
    cantine.fresh(projections::invoices::NAME).await;
    Ok(db::finance::issued(&cantine.pool, span(cantine, days)).await?)
}

/// The invoices and credit notes issued in the month, by number.
pub async fn month_issued(cantine: &Cantine, month: &Month) -> AppResult<Vec<InvoiceIssued>> {
    issued_between(cantine, month.days()).await
}

/// A payment as the finance office follows it.
pub type StartedPayment = db::finance::StartedPaymentRow;

/// The payments started in the month, with this status if given, the latest first.
pub async fn month_payments(
    cantine: &Cantine,
    month: &Month,
    status: Option<PaymentStatus>,
) -> AppResult<Vec<StartedPayment>> {
    Ok(db::finance::payments_started(&cantine.pool, span(cantine, month.days()), status).await?)
}

/// The month-end exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportDocument {
    Invoices,
    CreditNotes,
    Payments,
    Refunds,
}

impl ExportDocument {
    pub const ALL: [ExportDocument; 4] = [
        ExportDocument::Invoices,
        ExportDocument::CreditNotes,
        ExportDocument::Payments,
        ExportDocument::Refunds,
    ];

    /// As the export's address names it.
    pub const fn as_str(self) -> &'static str {
        match self {
            ExportDocument::Invoices => "invoices",
            ExportDocument::CreditNotes => "credit-notes",
            ExportDocument::Payments => "payments",
            ExportDocument::Refunds => "refunds",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

/// An invoice or credit note as the month-end export lists it.
#[derive(Debug, Clone)]
pub struct DocumentLine {
    pub number: String,
    pub issued_on: NaiveDate,
    pub family_name: String,
    pub family_id: Uuid,
    pub kind: InvoiceKind,
    /// The month billed (`YYYY-MM`), for monthly invoices.
    pub month: Option<String>,
    /// The restaurants of its lines, consecutive repeats removed.
    pub restaurants: Vec<String>,
    /// The reservations of its lines, consecutive repeats removed.
    pub reservations: Vec<String>,
    pub meals: u32,
    pub total: Decimal,
}

impl From<InvoiceIssued> for DocumentLine {
    fn from(i: InvoiceIssued) -> Self {
        let mut restaurants: Vec<String> = i.lines.iter().map(|l| l.restaurant.clone()).collect();
        restaurants.dedup();
        let mut reservations: Vec<String> = i
            .lines
            .iter()
            .map(|l| l.reservation_number.clone())
            .collect();
        reservations.dedup();
        DocumentLine {
            issued_on: paris_day(i.issued_at),
            meals: i.lines.iter().map(|l| l.quantity).sum(),
            number: i.number,
            family_name: i.family_name,
            family_id: i.family_id,
            kind: i.kind,
            month: i.month,
            restaurants,
            reservations,
            total: i.total,
        }
    }
}

/// A payment that succeeded, as the month-end export lists it (paid on its Paris day).
pub type PaymentLine = db::finance::SettledPaymentRow;

/// A refund owed, as the month-end export lists it (recorded on its Paris day).
pub type RefundLine = db::finance::RefundRow;

/// One month-end export's rows.
#[derive(Debug, Clone)]
pub enum Export {
    Invoices(Vec<DocumentLine>),
    CreditNotes(Vec<DocumentLine>),
    Payments(Vec<PaymentLine>),
    Refunds(Vec<RefundLine>),
}

/// The rows of the month's export of this document: documents by number, payments and refunds
/// in the order they happened.
pub async fn export(
    cantine: &Cantine,
    month: &Month,
    document: ExportDocument,
) -> AppResult<Export> {
    let span = span(cantine, month.days());
    let pool = &cantine.pool;
    let documents = |credit_notes: bool| async move {
        cantine.fresh(projections::invoices::NAME).await;
        let issued = db::finance::issued_of_series(pool, span, credit_notes).await?;
        AppResult::Ok(issued.into_iter().map(DocumentLine::from).collect())
    };
    Ok(match document {
        ExportDocument::Invoices => Export::Invoices(documents(false).await?),
        ExportDocument::CreditNotes => Export::CreditNotes(documents(true).await?),
        ExportDocument::Payments => {
            Export::Payments(db::finance::payments_settled(pool, span).await?)
        }
        ExportDocument::Refunds => {
            Export::Refunds(db::finance::refunds_recorded(pool, span).await?)
        }
    })
}

/// A reconciliation column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// Invoices issued (prepaid and billed later).
    Invoiced,
    /// Credit notes issued.
    Credited,
    /// Money received through the provider.
    Paid,
    /// Money owed back to payers.
    Refunded,
}

impl Column {
    pub const ALL: [Column; 4] = [
        Column::Invoiced,
        Column::Credited,
        Column::Paid,
        Column::Refunded,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Column::Invoiced => "invoiced",
            Column::Credited => "credited",
            Column::Paid => "paid",
            Column::Refunded => "refunded",
        }
    }

    fn of(self, columns: &Columns) -> Decimal {
        match self {
            Column::Invoiced => columns.invoiced,
            Column::Credited => columns.credited,
            Column::Paid => columns.paid,
            Column::Refunded => columns.refunded,
        }
    }
}

/// A restaurant's month (or the month's totals).
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    pub restaurant: String,
    pub invoiced: Decimal,
    pub credited: Decimal,
    pub paid: Decimal,
    pub refunded: Decimal,
}

impl Balance {
    fn new(restaurant: String, c: Columns) -> Self {
        Balance {
            restaurant,
            invoiced: c.invoiced,
            credited: c.credited,
            paid: c.paid,
            refunded: c.refunded,
        }
    }

    /// invoiced − credited − paid + refunded: what the month leaves owed (negative: families'
    /// credit still to spend).
    pub fn outstanding(&self) -> Decimal {
        self.invoiced - self.credited - self.paid + self.refunded
    }
}

/// A column's total in the ledger against its source documents.
#[derive(Debug, Clone)]
pub struct Check {
    pub column: Column,
    pub ledger: Decimal,
    pub source: Decimal,
    pub holds: bool,
}

#[derive(Debug, Clone)]
pub struct Reconciliation {
    pub month: String,
    pub restaurants: Vec<Balance>,
    /// The restaurant of the totals is `TOTAL`.
    pub totals: Balance,
    /// Each column checked against its source: the invoices and credit notes issued, the
    /// payments that succeeded, the refunds recorded.
    pub checks: Vec<Check>,
    /// Every check holds, and each row's outstanding is its columns' balance.
    pub balanced: bool,
}

/// The month's reconciliation report: what the API's route and the back office's finance page
/// both show.
pub async fn reconciliation(cantine: &Cantine, month: &Month) -> AppResult<Reconciliation> {
    let span = span(cantine, month.days());
    cantine.fresh(projections::ledger::NAME).await;
    cantine.fresh(projections::invoices::NAME).await;
    let mut totals = Columns::default();
    let mut rows_balance = true;
    let restaurants: Vec<Balance> = db::finance::ledger_movements(&cantine.pool, span)
        .await?
        .into_iter()
        .map(|m| {
            let balance = Balance::new(m.restaurant, m.columns);
            rows_balance &= balance.outstanding() == m.net;
            totals.invoiced += m.columns.invoiced;
            totals.credited += m.columns.credited;
            totals.paid += m.columns.paid;
            totals.refunded += m.columns.refunded;
            balance
        })
        .collect();
    let source = db::finance::source_columns(&cantine.pool, span).await?;
    let checks: Vec<Check> = Column::ALL
        .into_iter()
        .map(|column| Check {
            column,
            ledger: column.of(&totals),
            source: column.of(&source),
            holds: column.of(&totals) == column.of(&source),
        })
        .collect();
    let balanced = rows_balance && checks.iter().all(|c| c.holds);
    if !balanced {
        tracing::error!(month = %month.text, "the month's reconciliation does not balance");
    }
    Ok(Reconciliation {
        month: month.text.clone(),
        restaurants,
        totals: Balance::new("TOTAL".into(), totals),
        checks,
        balanced,
    })
}
