//! Waiting lists (issue 18, point 4): a family puts a child on the list of a full day; when a
//! place frees there, the promoter (`jobs::waitlist_promoter`) gives it to the first in line:
//! a reservation requested and confirmed for the child through the Reservation aggregate, so
//! the places are taken by the same guarded statement as any booking (never over capacity).
//! A prepaid period's place is then held until its own payment deadline; a billed-later one is
//! booked.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::app::{AppError, AppResult, Caller, Cantine};
use crate::db;
use crate::db::reservation_services::PgReservationServices;
use crate::domain::period::DayRefusal;
use crate::domain::reservation::{
    Actor, RequestedDays, ReservationCommand, ReservationError, ReservationServices,
    ReservationStatus,
};
use crate::domain::waitlist::{
    list_id, promotion_reservation_id, ChildWaiting, LeaveReason, WaitingList, WaitingListEvent,
    WaitlistError,
};
use crate::store::commands::{CommandError, CommandMeta};
use crate::store::waitlist as store;

pub use db::waitlist::EntryRow as Entry;

/// The most days one request may put a child in line for.
const MAX_DAYS: usize = 100;
/// Decisions retried when another append to the same list got there first.
const MAX_ATTEMPTS: usize = 32;

/// One day joined: the child's place in line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joined {
    pub date: NaiveDate,
    pub position: usize,
}

fn waitlist_refusal(e: WaitlistError) -> AppError {
    match e {
        WaitlistError::AlreadyWaiting => AppError::conflict(
            "already_waiting",
            "the child is already on this day's waiting list",
        ),
        WaitlistError::NotWaiting => AppError::refused(
            crate::app::Refusal::NotFound,
            "not_waiting",
            "the child is not on this day's waiting list",
        ),
        WaitlistError::NotFirst => AppError::conflict("not_first_in_line", e.to_string()),
    }
}

fn services(cantine: &Cantine) -> PgReservationServices {
    PgReservationServices::new(cantine.pool.clone(), Arc::clone(&cantine.clock))
}

/// Puts the family's child on the waiting list of each of `days` in the period. Only full days
/// may be waited for: a day with a place left is refused (`day_not_full`: book it), as is a
/// day the child already has, or one that cannot be booked (closed, past the cut-off...). All
/// the days are checked before any is joined.
pub async fn join(
    cantine: &Cantine,
    caller: &Caller,
    child_id: Uuid,
    period_id: Uuid,
    days: Vec<NaiveDate>,
) -> AppResult<Vec<Joined>> {
    let family_id = caller.family()?;
    if days.is_empty() {
        return Err(AppError::bad_input("no_days", "give at least one day"));
    }
    if days.len() > MAX_DAYS {
        return Err(AppError::bad_input(
            "too_many_days",
            format!("at most {MAX_DAYS} days at once"),
        ));
    }
    let wanted: BTreeSet<NaiveDate> = days.iter().copied().collect();
    if wanted.len() != days.len() {
        return Err(AppError::bad_input(
            "duplicate_days",
            "a day is named twice",
        ));
    }
    let services = services(cantine);
    let context = services
        .booking_context(family_id, child_id, period_id)
        .await
        .map_err(ReservationError::from)?;
    let now = cantine.clock.now();
    let mut refused: Option<(DayRefusal, Vec<NaiveDate>)> = None;
    for day in &wanted {
        if let Err(reason) = context.rules.check_bookable(*day, now) {
            match &mut refused {
                Some((first, days)) if *first == reason => days.push(*day),
                Some((first, _)) if *first < reason => {}
                _ => refused = Some((reason, vec![*day])),
            }
        }
    }
    if let Some((reason, days)) = refused {
        return Err(ReservationError::for_days(reason, days).into());
    }
    let wanted: Vec<NaiveDate> = wanted.into_iter().collect();
    cantine.fresh(crate::projections::waitlist::NAME).await;
    let availability = services
        .availability(&context, &wanted)
        .await
        .map_err(ReservationError::from)?;
    let booked: Vec<NaiveDate> = availability.already_booked.iter().copied().collect();
    if !booked.is_empty() {
        return Err(ReservationError::AlreadyBooked { days: booked }.into());
    }
    let not_full: Vec<NaiveDate> = wanted
        .iter()
        .filter(|d| !availability.full.contains(d))
        .copied()
        .collect();
    if !not_full.is_empty() {
        return Err(AppError::rule(
            "day_not_full",
            format!(
                "only a full day has a waiting list; these days have a place left, book them: {}",
                not_full
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let service = context.period.service.label.clone();
    // Already in line for one of them: nothing joined.
    for day in &wanted {
        let list = store::load(
            &cantine.pool,
            &list_id(context.restaurant.id, &service, *day),
        )
        .await?;
        if list.position_of(child_id).is_some() {
            return Err(waitlist_refusal(WaitlistError::AlreadyWaiting));
        }
    }
    let meta = caller.meta();
    let mut joined = Vec::new();
    for day in wanted {
        let id = list_id(context.restaurant.id, &service, day);
        let waiting = ChildWaiting {
            organisation_id: context.organisation_id,
            family_id,
            child: context.child.clone(),
            restaurant: context.restaurant.clone(),
            period_id,
            service: service.clone(),
            date: day,
            joined_at: now,
        };
        let list =
            decide_and_append(cantine, &id, &meta, |list| list.join(waiting.clone())).await?;
        joined.push(Joined {
            date: day,
            position: list.position_of(child_id).unwrap_or(list.line.len()),
        });
    }
    Ok(joined)
}

/// Loads the list, decides, appends; decides again on the list as it is when another append
/// got there first. Answers the list after the event.
async fn decide_and_append(
    cantine: &Cantine,
    id: &str,
    meta: &CommandMeta,
    decide: impl Fn(&WaitingList) -> Result<WaitingListEvent, WaitlistError>,
) -> AppResult<WaitingList> {
    for _ in 0..MAX_ATTEMPTS {
        let mut list = store::load(&cantine.pool, id).await?;
        let event = decide(&list).map_err(waitlist_refusal)?;
        if store::append_after(&cantine.pool, id, list.version, &event, meta).await? {
            cantine.progress.record_write();
            let version = list.version + 1;
            list.apply(version, &event);
            return Ok(list);
        }
    }
    Err(AppError::ConcurrentChange)
}

/// The family's children in line, each with its place.
pub async fn of_family(cantine: &Cantine, caller: &Caller) -> AppResult<Vec<Entry>> {
    let family_id = caller.family()?;
    cantine.fresh(crate::projections::waitlist::NAME).await;
    Ok(db::waitlist::of_family(&cantine.pool, family_id).await?)
}

/// Takes the family's child off the list of that day (of any restaurant it waits at).
pub async fn leave(
    cantine: &Cantine,
    caller: &Caller,
    child_id: Uuid,
    date: NaiveDate,
) -> AppResult<()> {
    let family_id = caller.family()?;
    if !db::reference::child_belongs_to(&cantine.pool, child_id, family_id).await? {
        return Err(AppError::not_found("child"));
    }
    cantine.fresh(crate::projections::waitlist::NAME).await;
    let lists = db::waitlist::lists_of_child_on(&cantine.pool, child_id, date).await?;
    if lists.is_empty() {
        return Err(waitlist_refusal(WaitlistError::NotWaiting));
    }
    let now = cantine.clock.now();
    for (restaurant_id, service) in lists {
        decide_and_append(
            cantine,
            &list_id(restaurant_id, &service, date),
            &caller.meta(),
            |list| list.leave(Some(family_id), child_id, LeaveReason::Family, None, now),
        )
        .await?;
    }
    Ok(())
}

/// A day's waiting lists of the town (staff), per restaurant and service, in order.
pub async fn of_day(
    cantine: &Cantine,
    date: NaiveDate,
    restaurant_id: Option<Uuid>,
) -> AppResult<Vec<Entry>> {
    cantine.fresh(crate::projections::waitlist::NAME).await;
    Ok(db::waitlist::of_day(&cantine.pool, cantine.organisation.id, date, restaurant_id).await?)
}

/// What looking at a day's list did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Promotions {
    /// The children given a place, in order, with their reservation.
    pub offered: Vec<(Uuid, Uuid)>,
    /// Children who left the list: booked otherwise, or their day no longer bookable.
    pub removed: usize,
    /// A place seemed free but could not be taken: the day is to be looked at again.
    pub again: bool,
}

/// Gives the day's free places to the children in line, first come first served: the first in
/// line gets a reservation (its id derived from its place in line, so that two promoters or a
/// retry after a crash request it once), requested and confirmed by the system; a child who
/// holds the day already leaves the list. Stops when no place is left or nobody waits.
pub async fn promote(
    cantine: &Cantine,
    restaurant_id: Uuid,
    service: &str,
    date: NaiveDate,
) -> AppResult<Promotions> {
    let id = list_id(restaurant_id, service, date);
    let meta = CommandMeta::system(format!("waitlist-{}", Uuid::now_v7()));
    let mut done = Promotions::default();
    for _ in 0..1000 {
        // The places check of the request reads the lists' view: let it see every decision.
        cantine.fresh(crate::projections::waitlist::NAME).await;
        let list = store::load(&cantine.pool, &id).await?;
        let Some(first) = list.first().cloned() else {
            break;
        };
        let now = cantine.clock.now();
        let reservation_id = promotion_reservation_id(&id, first.child_id, first.joined_sequence);
        // A reservation made for this place in line already (a crash, another server): the
        // child got the place.
        let existing = cantine.commands.load(reservation_id).await?;
        if existing.exists() {
            confirm_and_offer(cantine, &id, &meta, &first, reservation_id, &mut done).await?;
            continue;
        }
        // Children in line who hold the day otherwise leave it.
        let line: Vec<(Uuid, Uuid)> = list
            .line
            .iter()
            .map(|w| {
                let promotion = promotion_reservation_id(&id, w.child_id, w.joined_sequence);
                (w.child_id, promotion)
            })
            .collect();
        let holding = db::waitlist::children_holding(&cantine.pool, &line, service, date).await?;
        if !holding.is_empty() {
            for child in holding {
                let left = decide_and_append(cantine, &id, &meta, |list| {
                    list.leave(None, child, LeaveReason::Booked, None, now)
                })
                .await;
                match left {
                    Ok(_) => done.removed += 1,
                    Err(e) if e.code() == "not_waiting" => {}
                    Err(e) => return Err(e),
                }
            }
            continue;
        }
        let free =
            db::waitlist::free_places(&cantine.pool, restaurant_id, service, date, first.period_id)
                .await?;
        if free <= 0 {
            break;
        }
        let command = ReservationCommand::Request {
            reservation_id,
            family_id: first.family_id,
            child_id: first.child_id,
            period_id: first.period_id,
            days: RequestedDays::Explicit(vec![date]),
            partial: false,
        };
        match cantine
            .commands
            .execute(reservation_id, command, &meta)
            .await
        {
            Ok(_) | Err(CommandError::Refused(ReservationError::AlreadyRequested)) => {
                confirm_and_offer(cantine, &id, &meta, &first, reservation_id, &mut done).await?;
            }
            // Someone else took the place first, or the places kept changing: looked at again
            // soon.
            Err(CommandError::Refused(ReservationError::DayFull { .. }))
            | Err(CommandError::Conflict) => {
                done.again = true;
                break;
            }
            Err(CommandError::Refused(ReservationError::AlreadyBooked { .. })) => continue,
            // The day cannot be booked for this child any more: it leaves the list.
            Err(CommandError::Refused(refusal)) => {
                let detail = Some(refusal.code().to_string());
                decide_and_append(cantine, &id, &meta, |list| {
                    list.leave(
                        None,
                        first.child_id,
                        LeaveReason::NoLongerBookable,
                        detail.clone(),
                        now,
                    )
                })
                .await?;
                done.removed += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done)
}

/// Confirms the reservation made for the first in line (as the system) and records the place
/// offered on the list.
async fn confirm_and_offer(
    cantine: &Cantine,
    id: &str,
    meta: &CommandMeta,
    first: &crate::domain::waitlist::Waiting,
    reservation_id: Uuid,
    done: &mut Promotions,
) -> AppResult<()> {
    let confirmed = cantine
        .commands
        .execute(
            reservation_id,
            ReservationCommand::Confirm {
                actor: Actor::System,
            },
            meta,
        )
        .await;
    let reservation = match confirmed {
        Ok(reservation) => reservation,
        Err(CommandError::Refused(
            ReservationError::AlreadyConfirmed
            | ReservationError::AlreadyPaid
            | ReservationError::AlreadyExpired
            | ReservationError::AlreadyCancelled
            | ReservationError::HoldExpired,
        )) => cantine.commands.load(reservation_id).await?,
        Err(e) => return Err(e.into()),
    };
    let now = cantine.clock.now();
    let offered = decide_and_append(cantine, id, meta, |list| {
        list.offer(
            first.child_id,
            reservation_id,
            reservation.pay_before,
            reservation.total,
            now,
        )
    })
    .await;
    match offered {
        Ok(_) => {
            if !matches!(
                reservation.status,
                ReservationStatus::Expired | ReservationStatus::Cancelled
            ) {
                done.offered.push((first.child_id, reservation_id));
            }
            Ok(())
        }
        // Another promoter recorded it first.
        Err(e) if matches!(e.code(), "not_waiting" | "not_first_in_line") => Ok(()),
        Err(e) => Err(e),
    }
}
