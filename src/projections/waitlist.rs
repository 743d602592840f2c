//! The waiting lists as families and staff read them (`waitlist_entries`): who waits for which
//! day, in the order of the line. Rebuilt from the `WaitingList` events alone, like every
//! projection, so a rebuild gives the same lists.

use async_trait::async_trait;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Pace, PayloadsOf, Projection, StoredEvent};
use crate::domain::waitlist::{WaitingListEvent, AGGREGATE};

pub const NAME: &str = "waitlist";

pub struct WaitlistProjection;

/// The list's restaurant, service and date, from its aggregate id (`restaurant/date/service`).
pub fn parse_list_id(id: &str) -> anyhow::Result<(Uuid, chrono::NaiveDate, String)> {
    let mut parts = id.splitn(3, '/');
    let (Some(restaurant), Some(date), Some(service)) = (parts.next(), parts.next(), parts.next())
    else {
        anyhow::bail!("not a waiting list's id: {id}");
    };
    Ok((restaurant.parse()?, date.parse()?, service.to_string()))
}

#[async_trait]
impl Projection for WaitlistProjection {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Read by pages off the rush's path: a request that waits for it wakes it.
    fn pace(&self) -> Pace {
        Pace::OnDemand
    }

    fn tables(&self) -> &'static [&'static str] {
        &["waitlist_entries"]
    }

    fn payloads(&self) -> Option<PayloadsOf> {
        Some(PayloadsOf {
            aggregate_types: &[AGGREGATE],
            event_types: &[],
        })
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> anyhow::Result<()> {
        if event.aggregate_type != AGGREGATE {
            return Ok(());
        }
        let (restaurant_id, date, service) = parse_list_id(&event.aggregate_id)?;
        match event.decode::<WaitingListEvent>()? {
            WaitingListEvent::ChildWaiting(e) => {
                sqlx::query(
                    "INSERT INTO waitlist_entries (organisation_id, restaurant_id, restaurant_name,
                        service, date, period_id, family_id, child_id, child_first_name,
                        child_last_name, joined_sequence, joined_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     ON CONFLICT (restaurant_id, service, date, child_id) DO NOTHING",
                )
                .bind(e.organisation_id)
                .bind(restaurant_id)
                .bind(&e.restaurant.name)
                .bind(&service)
                .bind(date)
                .bind(e.period_id)
                .bind(e.family_id)
                .bind(e.child.id)
                .bind(&e.child.first_name)
                .bind(&e.child.last_name)
                .bind(event.sequence)
                .bind(e.joined_at)
                .execute(&mut *tx)
                .await?;
            }
            WaitingListEvent::ChildLeftWaitingList(e) => {
                remove(tx, restaurant_id, &service, date, e.child_id).await?
            }
            WaitingListEvent::WaitingPlaceOffered(e) => {
                remove(tx, restaurant_id, &service, date, e.child_id).await?
            }
        }
        Ok(())
    }
}

async fn remove(
    tx: &mut PgConnection,
    restaurant_id: Uuid,
    service: &str,
    date: chrono::NaiveDate,
    child_id: Uuid,
) -> anyhow::Result<()> {
    sqlx::query(
        "DELETE FROM waitlist_entries
          WHERE restaurant_id = $1 AND service = $2 AND date = $3 AND child_id = $4",
    )
    .bind(restaurant_id)
    .bind(service)
    .bind(date)
    .bind(child_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
