//! Daily headcounts per restaurant, service and meal option. They are maintained by the
//! reservations projection, in the same transaction as the reservation days they count, so that
//! the two can never disagree; this module holds the counting.

use sqlx::PgConnection;
use uuid::Uuid;

/// Removes (`sign` = -1) or adds (+1) the days of a reservation to the headcounts, according to
/// each day's current status (`booked` or `awaiting_payment`; `requested` days are held too).
/// A status change is: remove, update the days, add.
pub async fn adjust(
    tx: &mut PgConnection,
    reservation_id: Uuid,
    dates: Option<&[chrono::NaiveDate]>,
    sign: i32,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO headcount_view AS h (restaurant_id, period_id, date, service, meal_option, booked, awaiting_payment)
         SELECT restaurant_id, period_id, date, service, meal_option,
                $3 * count(*) FILTER (WHERE status = 'booked'),
                $3 * count(*) FILTER (WHERE status IN ('awaiting_payment', 'requested'))
           FROM reservation_day_view
          WHERE reservation_id = $1 AND ($2::date[] IS NULL OR date = ANY($2))
            AND status IN ('booked', 'awaiting_payment', 'requested')
          GROUP BY restaurant_id, period_id, date, service, meal_option
         ON CONFLICT (restaurant_id, date, service, meal_option, period_id) DO UPDATE
            SET booked = h.booked + EXCLUDED.booked,
                awaiting_payment = h.awaiting_payment + EXCLUDED.awaiting_payment",
    )
    .bind(reservation_id)
    .bind(dates)
    .bind(sign)
    .execute(tx)
    .await?;
    Ok(())
}
