//! A family's reservations: the history (searchable by number or child, a page at a time) and
//! one reservation with its days.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db::reservation_reads::{self, ReservationRow};
use crate::domain::reservation::{format_number, DayStatus, ReservationStatus};

/// What to list: a page (from 1) of `per_page` (1 to 100), optionally one child's, one
/// status's, or those matching a number (`14` or `00014`) or a child's name.
pub struct HistoryQuery {
    pub page: u32,
    pub per_page: u32,
    pub child_id: Option<Uuid>,
    pub search: Option<String>,
    pub status: Option<ReservationStatus>,
}

#[derive(Debug, Clone)]
pub struct HistoryItem {
    pub id: Uuid,
    /// As parents read it: `00014`.
    pub number: String,
    pub child: String,
    pub child_id: Uuid,
    pub establishment: String,
    pub establishment_id: Uuid,
    pub period: String,
    pub period_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub status: ReservationStatus,
    pub total: Decimal,
    pub pay_before: Option<DateTime<Utc>>,
}

impl TryFrom<ReservationRow> for HistoryItem {
    type Error = AppError;

    fn try_from(r: ReservationRow) -> AppResult<Self> {
        let status = ReservationStatus::parse(&r.status).ok_or_else(|| {
            AppError::internal(format!("unknown reservation status {}", r.status))
        })?;
        Ok(HistoryItem {
            id: r.id,
            number: format_number(r.number as u64),
            child: r.child,
            child_id: r.child_id,
            establishment: r.establishment,
            establishment_id: r.establishment_id,
            period: r.period,
            period_id: r.period_id,
            created_at: r.created_at,
            first_day: r.first_day,
            last_day: r.last_day,
            status,
            total: r.total,
            pay_before: r.pay_before,
        })
    }
}

pub struct History {
    pub items: Vec<HistoryItem>,
    /// How many match, over every page.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// Pages start at 1 and hold 1 to 100 reservations.
pub fn check_paging(page: u32, per_page: u32) -> AppResult<()> {
    if page == 0 || !(1..=100).contains(&per_page) {
        return Err(AppError::bad_input(
            "invalid_parameter",
            "page starts at 1; per_page is between 1 and 100",
        ));
    }
    Ok(())
}

/// The caller's family's reservations, newest first.
pub async fn history(
    cantine: &Cantine,
    caller: &Caller,
    query: HistoryQuery,
) -> AppResult<History> {
    let family_id = caller.family()?;
    let HistoryQuery {
        page,
        per_page,
        child_id,
        search,
        status,
    } = query;
    check_paging(page, per_page)?;
    let search = search.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let number: Option<i64> = search.and_then(|q| q.parse().ok());
    let pattern = search.map(|q| {
        format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    cantine.fresh(crate::projections::reservations::NAME).await;
    let filter = reservation_reads::HistoryFilter {
        family_id,
        child_id,
        status: status.map(ReservationStatus::as_str),
        pattern: pattern.as_deref(),
        number,
    };
    let (total, rows) = reservation_reads::history(
        &cantine.pool,
        &filter,
        per_page as i64,
        (page as i64 - 1) * per_page as i64,
    )
    .await?;
    Ok(History {
        items: rows
            .into_iter()
            .map(HistoryItem::try_from)
            .collect::<AppResult<_>>()?,
        total,
        page,
        per_page,
    })
}

#[derive(Debug, Clone)]
pub struct ReservationDay {
    pub date: NaiveDate,
    pub status: DayStatus,
    pub unit_price: Decimal,
}

pub struct ReservationDetail {
    pub item: HistoryItem,
    pub days: Vec<ReservationDay>,
}

impl ReservationDetail {
    /// The days still taking a place.
    pub fn active_days(&self) -> impl Iterator<Item = &ReservationDay> {
        self.days.iter().filter(|d| d.status.is_active())
    }
}

/// One of the caller's family's reservations with its days (404 when not the family's).
pub async fn detail(cantine: &Cantine, caller: &Caller, id: Uuid) -> AppResult<ReservationDetail> {
    let family_id = caller.family()?;
    cantine.fresh(crate::projections::reservations::NAME).await;
    let row = reservation_reads::reservation(&cantine.pool, family_id, id)
        .await?
        .ok_or_else(|| AppError::not_found("reservation"))?;
    let days = reservation_reads::days(&cantine.pool, id)
        .await?
        .into_iter()
        .map(|(date, status, unit_price)| {
            let status = DayStatus::parse(&status)
                .ok_or_else(|| AppError::internal(format!("unknown day status {status}")))?;
            Ok(ReservationDay {
                date,
                status,
                unit_price,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok(ReservationDetail {
        item: row.try_into()?,
        days,
    })
}
