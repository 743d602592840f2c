//! The waiting lists' reads (`waitlist_entries`, the projection of the lists' events), the days
//! due for a look (`waitlist_due`), and the places of a day as the promoter counts them.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::waitlist::AGGREGATE;

/// One child in line, with its place in it (1 for the first).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub restaurant_id: Uuid,
    pub restaurant_name: String,
    pub service: String,
    pub date: NaiveDate,
    pub period_id: Uuid,
    pub family_id: Uuid,
    pub child_id: Uuid,
    pub child_first_name: String,
    pub child_last_name: String,
    pub joined_at: DateTime<Utc>,
    pub position: i64,
}

const WITH_POSITION: &str = "SELECT restaurant_id, restaurant_name, service, date, period_id,
        family_id, child_id, child_first_name, child_last_name, joined_at,
        row_number() OVER (PARTITION BY restaurant_id, service, date ORDER BY joined_sequence) AS position
   FROM waitlist_entries";

/// The family's children in line, by date.
pub async fn of_family(pool: &PgPool, family_id: Uuid) -> sqlx::Result<Vec<EntryRow>> {
    sqlx::query_as(&format!(
        "SELECT * FROM ({WITH_POSITION}
           WHERE (restaurant_id, service, date) IN
                 (SELECT restaurant_id, service, date FROM waitlist_entries WHERE family_id = $1)) w
          WHERE family_id = $1
          ORDER BY date, child_first_name, restaurant_name"
    ))
    .bind(family_id)
    .fetch_all(pool)
    .await
}

/// A day's lists of the town, per restaurant and service, each in its order.
pub async fn of_day(
    pool: &PgPool,
    organisation_id: Uuid,
    date: NaiveDate,
    restaurant_id: Option<Uuid>,
) -> sqlx::Result<Vec<EntryRow>> {
    sqlx::query_as(&format!(
        "SELECT * FROM ({WITH_POSITION}
           WHERE organisation_id = $1 AND date = $2
             AND ($3::uuid IS NULL OR restaurant_id = $3)) w
          ORDER BY restaurant_name, service, position"
    ))
    .bind(organisation_id)
    .bind(date)
    .bind(restaurant_id)
    .fetch_all(pool)
    .await
}

/// The child's places in line on these days of a restaurant's service (date → position).
pub async fn positions_of_child(
    pool: &PgPool,
    child_id: Uuid,
    restaurant_id: Uuid,
    service: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<HashMap<NaiveDate, i64>> {
    let rows: Vec<(NaiveDate, i64)> = sqlx::query_as(&format!(
        "SELECT date, position FROM ({WITH_POSITION}
           WHERE restaurant_id = $2 AND service = $3 AND date BETWEEN $4 AND $5) w
          WHERE child_id = $1"
    ))
    .bind(child_id)
    .bind(restaurant_id)
    .bind(service)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The lists (restaurant, service) the child waits on that day.
pub async fn lists_of_child_on(
    pool: &PgPool,
    child_id: Uuid,
    date: NaiveDate,
) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as(
        "SELECT restaurant_id, service FROM waitlist_entries WHERE child_id = $1 AND date = $2",
    )
    .bind(child_id)
    .bind(date)
    .fetch_all(pool)
    .await
}

/// Among the children in line (each with the id of the reservation its promotion makes), those
/// who hold that day of the service otherwise (booked, requested or awaiting payment elsewhere).
/// The day held by the child's own promotion does not count: between that reservation's request
/// and the offer recorded on the list, it is the place being offered, not a reason to leave.
pub async fn children_holding(
    pool: &PgPool,
    line: &[(Uuid, Uuid)],
    service: &str,
    date: NaiveDate,
) -> sqlx::Result<BTreeSet<Uuid>> {
    let (children, promotions): (Vec<Uuid>, Vec<Uuid>) = line.iter().copied().unzip();
    let rows: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT m.child_id
           FROM unnest($1::uuid[], $2::uuid[]) AS l(child_id, promotion)
           JOIN child_meals m ON m.child_id = l.child_id AND m.service = $3
          WHERE $4 <@ m.days - COALESCE((SELECT h.days FROM held_spans h
                                          WHERE h.reservation_id = l.promotion), '{}')",
    )
    .bind(children)
    .bind(promotions)
    .bind(service)
    .bind(date)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The places left that day: the day's capacity (its places row, else the period's override,
/// else the period's) less those taken. The same numbers a booking is checked against.
pub async fn free_places(
    pool: &PgPool,
    restaurant_id: Uuid,
    service: &str,
    date: NaiveDate,
    period_id: Uuid,
) -> sqlx::Result<i64> {
    let (free,): (i64,) = sqlx::query_as(
        "SELECT (COALESCE(pl.capacity, o.capacity, p.capacity) - COALESCE(pl.taken, 0))::bigint
           FROM periods p
           LEFT JOIN places pl ON pl.restaurant_id = $1 AND pl.service = $2 AND pl.date = $3
           LEFT JOIN capacity_overrides o ON o.period_id = p.id AND o.date = $3
          WHERE p.id = $4",
    )
    .bind(restaurant_id)
    .bind(service)
    .bind(date)
    .bind(period_id)
    .fetch_optional(pool)
    .await?
    .unwrap_or((0,));
    Ok(free)
}

/// Whether any day has ever been waited for (a lookup on the log's key: its first entry).
pub async fn any_list(conn: &mut PgConnection) -> sqlx::Result<bool> {
    // The type is written in the statement, not bound: with a parameter, PostgreSQL's generic
    // plan read the whole events table whenever no list existed (1 ms a request in the rush).
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type = 'WaitingList')")
        .fetch_one(&mut *conn)
        .await
}

/// Records these days of the restaurant's service as due for a look, those that have a list.
pub async fn mark_due(
    conn: &mut PgConnection,
    restaurant_id: Uuid,
    service: &str,
    days: &[NaiveDate],
) -> sqlx::Result<()> {
    if days.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO waitlist_due (restaurant_id, service, date)
         SELECT $1, $2, d FROM unnest($3::date[]) AS d
          WHERE EXISTS (SELECT 1 FROM events
                         WHERE aggregate_type = $4
                           AND aggregate_id = $1::text || '/' || d::text || '/' || $2
                           AND sequence = 1)
         ON CONFLICT (restaurant_id, service, date)
         DO UPDATE SET version = waitlist_due.version + 1, claimed_until = NULL",
    )
    .bind(restaurant_id)
    .bind(service)
    .bind(days)
    .bind(AGGREGATE)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A day due, claimed by one promoter until `claimed_until`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueDay {
    pub restaurant_id: Uuid,
    pub service: String,
    pub date: NaiveDate,
    pub version: i32,
}

/// Claims up to `limit` days nobody else holds, for `lease_seconds`.
pub async fn claim_due(pool: &PgPool, lease_seconds: i64, limit: i64) -> sqlx::Result<Vec<DueDay>> {
    sqlx::query_as(
        "UPDATE waitlist_due d SET claimed_until = now() + make_interval(secs => $1)
          WHERE (d.restaurant_id, d.service, d.date) IN (
                SELECT restaurant_id, service, date FROM waitlist_due
                 WHERE claimed_until IS NULL OR claimed_until < now()
                 ORDER BY date LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING d.restaurant_id, d.service, d.date, d.version",
    )
    .bind(lease_seconds as f64)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The day was looked at: done, unless something marked it again meanwhile (then it is left
/// for the next pass, unclaimed).
pub async fn finish_due(pool: &PgPool, day: &DueDay) -> sqlx::Result<()> {
    let done = sqlx::query(
        "DELETE FROM waitlist_due
          WHERE restaurant_id = $1 AND service = $2 AND date = $3 AND version = $4",
    )
    .bind(day.restaurant_id)
    .bind(&day.service)
    .bind(day.date)
    .bind(day.version)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        sqlx::query(
            "UPDATE waitlist_due SET claimed_until = NULL
              WHERE restaurant_id = $1 AND service = $2 AND date = $3",
        )
        .bind(day.restaurant_id)
        .bind(&day.service)
        .bind(day.date)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// The day is to be looked at again in a moment (a place could not be taken, a failure).
pub async fn retry_soon(pool: &PgPool, day: &DueDay) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE waitlist_due SET claimed_until = now() + interval '1 second'
          WHERE restaurant_id = $1 AND service = $2 AND date = $3",
    )
    .bind(day.restaurant_id)
    .bind(&day.service)
    .bind(day.date)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records as due the lists the child waits on among these days (at any restaurant): a child
/// booked that day leaves them.
pub async fn mark_child_lists_due(
    conn: &mut PgConnection,
    child_id: Uuid,
    days: &[NaiveDate],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO waitlist_due (restaurant_id, service, date)
         SELECT restaurant_id, service, date FROM waitlist_entries
          WHERE child_id = $1 AND date = ANY($2)
         ON CONFLICT (restaurant_id, service, date)
         DO UPDATE SET version = waitlist_due.version + 1, claimed_until = NULL",
    )
    .bind(child_id)
    .bind(days)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_list_query_names_the_waiting_lists_aggregate() {
        assert_eq!(super::AGGREGATE, "WaitingList");
    }
}
