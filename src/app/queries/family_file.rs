//! A family's file for the town's staff (the front desk, on the phone or at the counter): its
//! children and their month, its reservations with their events, its invoices and credit notes,
//! and its ledger with the balance, on one page. Read through the family's own queries, so
//! that staff see exactly what the family sees.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::family::{self, CalendarDay, Family};
use super::history::{self, HistoryItem, HistoryQuery};
use super::ledger::{self, Ledger};
use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::db::audit_log::{AuditEvent, EventFilter};
use crate::domain::account::Role;
use crate::domain::invoice::InvoiceIssued;

/// The most reservations the file lists (the newest); the family's history pages the rest.
const RESERVATIONS: u32 = 100;

pub struct ChildMonth {
    pub child_id: Uuid,
    pub name: String,
    /// The period of the child's latest reservation, whose month is shown.
    pub period: Option<String>,
    pub days: Vec<CalendarDay>,
}

pub struct FamilyFile {
    pub family: Family,
    pub month: String,
    pub children: Vec<ChildMonth>,
    pub reservations: Vec<HistoryItem>,
    /// Each reservation's events, in order, by the reservation's id.
    pub events: HashMap<String, Vec<AuditEvent>>,
    pub invoices: Vec<InvoiceIssued>,
    pub ledger: Ledger,
}

/// The family's own view, to read with the family's queries. Only this module makes one, and
/// only to read: staff act as themselves (`reservations::request_on_behalf`).
fn family_view(caller: &Caller, family_id: Uuid) -> Caller {
    Caller {
        role: Role::Family,
        family_id: Some(family_id),
        ..caller.clone()
    }
}

pub async fn family_file(
    cantine: &Cantine,
    caller: &Caller,
    family_id: Uuid,
    month: Option<NaiveDate>,
) -> AppResult<FamilyFile> {
    if caller.role == Role::Family {
        return Err(AppError::forbidden());
    }
    let view = family_view(caller, family_id);
    let family = family::family(cantine, &view).await?;
    let reservations = history::history(
        cantine,
        &view,
        HistoryQuery {
            page: 1,
            per_page: RESERVATIONS,
            child_id: None,
            search: None,
            status: None,
        },
    )
    .await?
    .items;
    let on = month.unwrap_or_else(|| cantine.clock.paris_today());
    let month = format!("{:04}-{:02}", on.year(), on.month());
    let mut children = Vec::new();
    for child in &family.children {
        let latest = reservations.iter().find(|r| r.child_id == child.id);
        let days = match latest {
            Some(r) => {
                family::calendar(cantine, &view, child.id, r.period_id, month.clone())
                    .await?
                    .days
            }
            None => Vec::new(),
        };
        children.push(ChildMonth {
            child_id: child.id,
            name: format!("{} {}", child.first_name, child.last_name),
            period: latest.map(|r| format!("{} – {}", r.establishment, r.period)),
            days,
        });
    }
    let filter = EventFilter {
        family_id: Some(family_id),
        ..EventFilter::default()
    };
    let mut events: HashMap<String, Vec<AuditEvent>> = HashMap::new();
    for event in db::audit_log::filtered_events(&cantine.pool, &filter, 0, 5000).await? {
        events
            .entry(event.aggregate_id.clone())
            .or_default()
            .push(event);
    }
    let invoices = super::invoices::of_family(cantine, &view).await?;
    let ledger = ledger::ledger(cantine, &view).await?;
    Ok(FamilyFile {
        family,
        month,
        children,
        reservations,
        events,
        invoices,
        ledger,
    })
}
