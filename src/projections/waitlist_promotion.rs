//! The consumer of the log that notices when a day's waiting list must be looked at again: a
//! place given back (an expiry, a cancellation), a child booked (who then leaves the list), a
//! child joining (a place may have freed meanwhile). It records the day in `waitlist_due` with
//! its checkpoint, in one transaction; the promoter job (`app::jobs::waitlist_promoter`) does
//! the rest. Only days that have a list are recorded.
//!
//! Like the notifications consumer it is not among `projections::all()`: a rebuild or an audit
//! replay must not promote anyone again.

use async_trait::async_trait;
use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Pace, PayloadsOf, Projection, StoredEvent};
use crate::domain::reservation::ReservationEvent;
use crate::domain::waitlist::AGGREGATE;

pub const NAME: &str = "waitlist_promotion";

pub struct WaitlistPromotionConsumer;

#[async_trait]
impl Projection for WaitlistPromotionConsumer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["waitlist_due"]
    }

    /// Nothing a request answers waits for it.
    fn pace(&self) -> Pace {
        Pace::Tick
    }

    /// A request's payload (some 140 days for a whole year) is read only when a waiting list
    /// exists; an expiry's and a cancellation's are small.
    fn payloads(&self) -> Option<PayloadsOf> {
        Some(PayloadsOf {
            aggregate_types: &[],
            event_types: &["ReservationExpired", "DaysCancelled"],
        })
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        self.apply_all(tx, std::slice::from_ref(event)).await
    }

    async fn apply_all(&self, tx: &mut PgConnection, events: &[StoredEvent]) -> anyhow::Result<()> {
        // Until a day is first waited for, nothing here has a list to look at; asked once a
        // batch, not once an event (a round trip each). A list created after the question
        // marks its own day due when its first child joins.
        let mut any_list = None;
        for event in events {
            if event.aggregate_type == AGGREGATE {
                if event.event_type == "ChildWaiting" {
                    let (restaurant, date, service) =
                        super::waitlist::parse_list_id(&event.aggregate_id)?;
                    mark_due(tx, restaurant, &service, &[date]).await?;
                }
                continue;
            }
            if event.aggregate_type != "Reservation"
                || !matches!(
                    event.event_type.as_str(),
                    "ReservationRequested" | "ReservationExpired" | "DaysCancelled"
                )
            {
                continue;
            }
            let lists = match any_list {
                Some(lists) => lists,
                None => *any_list.insert(crate::db::waitlist::any_list(tx).await?),
            };
            if lists {
                reservation_changed(tx, event).await?;
            }
        }
        Ok(())
    }
}

/// Marks due the days a reservation's event may change a list of: the days it asks for (the
/// child leaves those lists, a place may be gone), or the days it gives back.
async fn reservation_changed(tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
    let days: Vec<NaiveDate> = if event.event_type == "ReservationRequested" {
        let Some(e) = super::notifications::requested(tx, &event.aggregate_id).await? else {
            return Ok(());
        };
        let days: Vec<NaiveDate> = e.days.iter().map(|d| d.date).collect();
        crate::db::waitlist::mark_child_lists_due(tx, e.child.id, &days).await?;
        return mark_due(tx, e.restaurant.id, &e.period.service.label, &days).await;
    } else {
        match event.decode::<ReservationEvent>()? {
            ReservationEvent::ReservationExpired(e) => e.released_days,
            ReservationEvent::DaysCancelled(e) => e.days,
            _ => return Ok(()),
        }
    };
    let Some(request) = super::notifications::requested(tx, &event.aggregate_id).await? else {
        return Ok(());
    };
    mark_due(
        tx,
        request.restaurant.id,
        &request.period.service.label,
        &days,
    )
    .await
}

async fn mark_due(
    tx: &mut PgConnection,
    restaurant_id: Uuid,
    service: &str,
    days: &[NaiveDate],
) -> anyhow::Result<()> {
    Ok(crate::db::waitlist::mark_due(tx, restaurant_id, service, days).await?)
}
