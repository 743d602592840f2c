-- A reservation's days are folded into its row: the dates, their prices and the dates cancelled
-- one by one, as arrays. One row per meal day (~140 for a whole year) made the projection write
-- ~100 rows per request, and rewrite all of them at each confirmation, payment and expiry: the
-- largest writes of the opening-day rush and of a replay, and the projection lag every read
-- waited for. A day's status is computed by `day_status` from the reservation's.

ALTER TABLE reservation_view
    ADD COLUMN service         text,
    ADD COLUMN meal_option     text,
    ADD COLUMN dates           date[],
    ADD COLUMN unit_prices     numeric(10, 2)[],
    ADD COLUMN cancelled_dates date[];

UPDATE reservation_view r
   SET (service, meal_option, dates, unit_prices, cancelled_dates) =
       (SELECT min(d.service), min(d.meal_option),
               COALESCE(array_agg(d.date ORDER BY d.date), '{}'),
               COALESCE(array_agg(d.unit_price ORDER BY d.date), '{}'),
               COALESCE(array_agg(d.date ORDER BY d.date) FILTER (WHERE d.status = 'cancelled'), '{}')
          FROM reservation_day_view d WHERE d.reservation_id = r.id);
UPDATE reservation_view r
   SET service = p.service->>'label', meal_option = ''
  FROM periods p WHERE p.id = r.period_id AND r.service IS NULL;

ALTER TABLE reservation_view
    ALTER COLUMN service SET NOT NULL,
    ALTER COLUMN meal_option SET NOT NULL,
    ALTER COLUMN dates SET NOT NULL,
    ALTER COLUMN unit_prices SET NOT NULL,
    ALTER COLUMN cancelled_dates SET NOT NULL;

DROP TABLE reservation_day_view;

-- The child's calendar: its reservations in a period.
CREATE INDEX reservation_view_child ON reservation_view (child_id, period_id);

-- The calendar's status of a day: cancelled on its own, or its reservation's (the values of
-- `ReservationStatus::as_str`). A function, not a view, so that a projection rebuild can swap
-- the table underneath without dropping what depends on it.
CREATE FUNCTION day_status(cancelled boolean, reservation_status text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN cancelled THEN 'cancelled'
        WHEN reservation_status IN ('confirmed', 'paid') THEN 'booked'
        ELSE reservation_status
    END;
