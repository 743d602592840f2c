//! Waiting lists (issue 18, point 4): one `WaitingList` aggregate per restaurant, service and day.
//! A family puts a child on a full day's list; the line is the order of the join events, so a
//! replay of the log gives the same lists. A freed place goes to the first in line
//! (`WaitingPlaceOffered`, with the reservation made for it); a child booked that day some
//! other way, or whose day can no longer be booked, leaves the list.
//!
//! The decisions here are pure: the store loads the list's events, asks, and appends the answer
//! at the next sequence (a concurrent append to the same list loses and decides again).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::period::{ChildRef, RestaurantRef};

/// The aggregate type, as the log names it.
pub const AGGREGATE: &str = "WaitingList";
/// Every event of the aggregate is at this version (the first).
pub const EVENT_VERSION: &str = "1.0";

/// The aggregate id of a day's list: `restaurant/service/date`.
pub fn list_id(restaurant_id: Uuid, service: &str, date: NaiveDate) -> String {
    format!("{restaurant_id}/{date}/{service}")
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ChildWaiting {
    pub organisation_id: Uuid,
    pub family_id: Uuid,
    pub child: ChildRef,
    pub restaurant: RestaurantRef,
    pub period_id: Uuid,
    pub service: String,
    pub date: NaiveDate,
    pub joined_at: DateTime<Utc>,
}

/// Why a child is no longer waiting, the place offered aside.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// The family took the child off the list.
    Family,
    /// The child was booked that day otherwise.
    Booked,
    /// The day can no longer be booked for the child (past the cut-off, closed, child gone).
    NoLongerBookable,
}

impl LeaveReason {
    pub fn as_str(self) -> &'static str {
        match self {
            LeaveReason::Family => "family",
            LeaveReason::Booked => "booked",
            LeaveReason::NoLongerBookable => "no_longer_bookable",
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ChildLeftWaitingList {
    pub child_id: Uuid,
    pub family_id: Uuid,
    pub reason: LeaveReason,
    /// For `no_longer_bookable`: the refusal's code (`past_cutoff`, `closed`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub left_at: DateTime<Utc>,
}

/// The first in line got a freed place: a reservation was requested and confirmed for the day.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct WaitingPlaceOffered {
    pub child_id: Uuid,
    pub family_id: Uuid,
    pub reservation_id: Uuid,
    pub offered_at: DateTime<Utc>,
    /// Prepaid: the payment deadline of the held place; billed later: none (booked).
    pub pay_before: Option<DateTime<Utc>>,
    pub amount: Decimal,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum WaitingListEvent {
    ChildWaiting(Box<ChildWaiting>),
    ChildLeftWaitingList(ChildLeftWaitingList),
    WaitingPlaceOffered(WaitingPlaceOffered),
}

impl WaitingListEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            WaitingListEvent::ChildWaiting(_) => "ChildWaiting",
            WaitingListEvent::ChildLeftWaitingList(_) => "ChildLeftWaitingList",
            WaitingListEvent::WaitingPlaceOffered(_) => "WaitingPlaceOffered",
        }
    }
}

/// One child in line.
#[derive(Clone, Debug, PartialEq)]
pub struct Waiting {
    pub child_id: Uuid,
    pub family_id: Uuid,
    pub period_id: Uuid,
    /// The join event's sequence in the list: the place in line.
    pub joined_sequence: i64,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum WaitlistError {
    #[error("the child is already on this day's waiting list")]
    AlreadyWaiting,
    #[error("the child is not on this day's waiting list")]
    NotWaiting,
    #[error("the child is not the first in line")]
    NotFirst,
}

impl WaitlistError {
    pub fn code(&self) -> &'static str {
        match self {
            WaitlistError::AlreadyWaiting => "already_waiting",
            WaitlistError::NotWaiting => "not_waiting",
            WaitlistError::NotFirst => "not_first_in_line",
        }
    }
}

/// A day's list as its events say: who waits, in order, and the sequence of its last event.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WaitingList {
    pub line: Vec<Waiting>,
    pub version: i64,
    /// The day's facts, from the first join (none before one).
    pub first_join: Option<ChildWaiting>,
}

impl WaitingList {
    pub fn apply(&mut self, sequence: i64, event: &WaitingListEvent) {
        match event {
            WaitingListEvent::ChildWaiting(e) => {
                self.line.push(Waiting {
                    child_id: e.child.id,
                    family_id: e.family_id,
                    period_id: e.period_id,
                    joined_sequence: sequence,
                });
                if self.first_join.is_none() {
                    self.first_join = Some((**e).clone());
                }
            }
            WaitingListEvent::ChildLeftWaitingList(e) => {
                self.line.retain(|w| w.child_id != e.child_id)
            }
            WaitingListEvent::WaitingPlaceOffered(e) => {
                self.line.retain(|w| w.child_id != e.child_id)
            }
        }
        self.version = sequence;
    }

    /// 1 for the first in line.
    pub fn position_of(&self, child_id: Uuid) -> Option<usize> {
        self.line
            .iter()
            .position(|w| w.child_id == child_id)
            .map(|i| i + 1)
    }

    pub fn first(&self) -> Option<&Waiting> {
        self.line.first()
    }

    /// The child joins the end of the line. (That the day is full is checked before, against
    /// the places, like a booking.)
    pub fn join(&self, waiting: ChildWaiting) -> Result<WaitingListEvent, WaitlistError> {
        if self.position_of(waiting.child.id).is_some() {
            return Err(WaitlistError::AlreadyWaiting);
        }
        Ok(WaitingListEvent::ChildWaiting(Box::new(waiting)))
    }

    /// The child leaves the line. A family may only take its own child off (another family's
    /// child is "not waiting", never "forbidden").
    pub fn leave(
        &self,
        family_id: Option<Uuid>,
        child_id: Uuid,
        reason: LeaveReason,
        detail: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<WaitingListEvent, WaitlistError> {
        let waiting = self
            .line
            .iter()
            .find(|w| w.child_id == child_id && family_id.is_none_or(|f| f == w.family_id))
            .ok_or(WaitlistError::NotWaiting)?;
        Ok(WaitingListEvent::ChildLeftWaitingList(
            ChildLeftWaitingList {
                child_id,
                family_id: waiting.family_id,
                reason,
                detail,
                left_at: now,
            },
        ))
    }

    /// The freed place goes to the first in line, and to no one else.
    pub fn offer(
        &self,
        child_id: Uuid,
        reservation_id: Uuid,
        pay_before: Option<DateTime<Utc>>,
        amount: Decimal,
        now: DateTime<Utc>,
    ) -> Result<WaitingListEvent, WaitlistError> {
        let first = self.first().ok_or(WaitlistError::NotWaiting)?;
        if first.child_id != child_id {
            return Err(if self.position_of(child_id).is_some() {
                WaitlistError::NotFirst
            } else {
                WaitlistError::NotWaiting
            });
        }
        Ok(WaitingListEvent::WaitingPlaceOffered(WaitingPlaceOffered {
            child_id,
            family_id: first.family_id,
            reservation_id,
            offered_at: now,
            pay_before,
            amount,
        }))
    }
}

/// The id of the reservation a promotion makes for a child's place in a line: the same for
/// every server and every retry of that promotion, so that it is requested once.
pub fn promotion_reservation_id(list_id: &str, child_id: Uuid, joined_sequence: i64) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("waitlist:{list_id}:{child_id}:{joined_sequence}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2017-01-11T13:38:00Z".parse().unwrap()
    }

    fn joining(child: Uuid, family: Uuid) -> ChildWaiting {
        ChildWaiting {
            organisation_id: Uuid::nil(),
            family_id: family,
            child: ChildRef {
                id: child,
                first_name: "Léa".into(),
                last_name: "DUPONT".into(),
                meal_option: "standard".into(),
            },
            restaurant: RestaurantRef {
                id: Uuid::nil(),
                name: "Le Repausset".into(),
            },
            period_id: Uuid::nil(),
            service: "REPAS".into(),
            date: "2017-01-23".parse().unwrap(),
            joined_at: now(),
        }
    }

    fn replay(events: &[WaitingListEvent]) -> WaitingList {
        let mut list = WaitingList::default();
        for (i, e) in events.iter().enumerate() {
            list.apply(i as i64 + 1, e);
        }
        list
    }

    #[test]
    fn the_line_is_the_order_of_joins_and_a_replay_gives_it_again() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let f = Uuid::new_v4();
        let mut events = vec![];
        let mut list = WaitingList::default();
        for child in [a, b, c] {
            let e = list.join(joining(child, f)).unwrap();
            list.apply(list.version + 1, &e);
            events.push(e);
        }
        assert_eq!(list.position_of(c), Some(3));
        assert_eq!(list.join(joining(b, f)), Err(WaitlistError::AlreadyWaiting));
        // The place goes to the first only.
        assert_eq!(
            list.offer(b, Uuid::new_v4(), None, Decimal::ONE, now()),
            Err(WaitlistError::NotFirst)
        );
        let offered = list
            .offer(a, Uuid::new_v4(), None, Decimal::ONE, now())
            .unwrap();
        list.apply(list.version + 1, &offered);
        events.push(offered);
        assert_eq!(list.position_of(b), Some(1));
        assert_eq!(list.position_of(a), None);
        // Another family cannot take b off; its own can.
        assert_eq!(
            list.leave(Some(Uuid::new_v4()), b, LeaveReason::Family, None, now()),
            Err(WaitlistError::NotWaiting)
        );
        let left = list
            .leave(Some(f), b, LeaveReason::Family, None, now())
            .unwrap();
        list.apply(list.version + 1, &left);
        events.push(left);
        assert_eq!(list.position_of(c), Some(1));
        assert_eq!(replay(&events), list);
    }

    #[test]
    fn a_promotion_names_the_same_reservation_every_time() {
        let child = Uuid::new_v4();
        let id = promotion_reservation_id("r/2017-01-23/REPAS", child, 3);
        assert_eq!(id, promotion_reservation_id("r/2017-01-23/REPAS", child, 3));
        assert_ne!(id, promotion_reservation_id("r/2017-01-23/REPAS", child, 4));
    }
}
