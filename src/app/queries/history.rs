//! A family's reservations: the history (searchable by number or child, a page at a time) and
//! one reservation with its days.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db::reservation_reads::{self, ReservationRow};
use crate::domain::reservation::{DayStatus, ReservationStatus};

/// What to list: a page (from 1) of `per_page` (1 to 100), optionally one child's, one
/// status's, or those matching a number (`14` or `00014`) or a child's name.
pub struct HistoryQuery {
    pub page: u32,
    pub per_page: u32,
    pub child_id: Option<Uuid>,
    pub search: Option<String>,
    pub status: Option<ReservationStatus>,
}

/// One reservation as the history lists it.
pub type HistoryItem = ReservationRow;

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
        items: rows,
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
    Ok(ReservationDetail { item: row, days })
}
