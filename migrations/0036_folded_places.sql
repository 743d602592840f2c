-- Places and held days folded (issue 21): a whole-year request took ~140 `places` rows and
-- wrote ~140 `held_days` rows in its append, and every such request queued behind the others on
-- those same rows. Now a request's append writes a handful of rows whatever its number of days:
--   - `place_months`: one row per restaurant, service and month, the day's capacity and places
--     taken in two arrays of 31 entries (entry i is day i of the month);
--   - `held_spans`: one row per reservation, the days it holds as a `datemultirange`;
--   - `child_meals`: one row per child and service, the union of the days held for that child,
--     so that a second meal the same day is refused by one row's check (`&&`), not by a unique
--     key per day.
-- The same guarantees as before: a day never over capacity (the check below, and the appends'
-- conditional updates), one meal per child per day and service, nothing held without its event
-- (the rows change in the statement that appends it). `places` and `held_days` stay as views,
-- one row per day, for the readers that think in days.

-- The first of the date's month, and its day in the month: the row and the entry of a day.
CREATE FUNCTION month_of(day date) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN day - (extract(day FROM day)::integer - 1);

CREATE FUNCTION day_of(day date) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN extract(day FROM day)::integer;

-- A month's arrays, in PL/pgSQL: a loop over 31 entries costs a few microseconds, where the
-- same in SQL (unnest, aggregate) cost ten times more in every booking's statement.
-- `days` are days of the month (1-31), `vals` the value of each; NULL elsewhere.
CREATE FUNCTION month_values(days integer[], vals integer[]) RETURNS integer[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    result integer[] := array_fill(NULL::integer, ARRAY[31]);
BEGIN
    FOR i IN 1 .. coalesce(cardinality(days), 0) LOOP
        result[days[i]] := vals[i];
    END LOOP;
    RETURN result;
END
$$;

-- How many of `days` fall on each day of the month.
CREATE FUNCTION month_counts(days integer[]) RETURNS integer[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    result integer[] := array_fill(0, ARRAY[31]);
    day integer;
BEGIN
    FOREACH day IN ARRAY coalesce(days, '{}') LOOP
        result[day] := result[day] + 1;
    END LOOP;
    RETURN result;
END
$$;

CREATE FUNCTION month_plus(a integer[], b integer[]) RETURNS integer[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    result integer[] := a;
BEGIN
    FOR i IN 1 .. 31 LOOP
        result[i] := a[i] + b[i];
    END LOOP;
    RETURN result;
END
$$;

CREATE FUNCTION month_minus(a integer[], b integer[]) RETURNS integer[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    result integer[] := a;
BEGIN
    FOR i IN 1 .. 31 LOOP
        result[i] := a[i] - b[i];
    END LOOP;
    RETURN result;
END
$$;

-- Capacities merged: a day's capacity already known is kept, an unknown one is learnt.
CREATE FUNCTION month_capacities(kept integer[], learnt integer[]) RETURNS integer[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    result integer[] := kept;
BEGIN
    FOR i IN 1 .. 31 LOOP
        result[i] := coalesce(kept[i], learnt[i]);
    END LOOP;
    RETURN result;
END
$$;

-- Every day's places taken within its capacity (a day with none taken needs no capacity).
CREATE FUNCTION month_fits(taken integer[], capacity integer[]) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    FOR i IN 1 .. 31 LOOP
        IF taken[i] < 0 OR capacity[i] < 0
           OR (taken[i] > 0 AND NOT coalesce(taken[i] <= capacity[i], false)) THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END
$$;

-- The days of a set of dates, as one multirange (consecutive days merge into one range).
CREATE FUNCTION days_span(days date[]) RETURNS datemultirange
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT COALESCE(range_agg(daterange(d, d + 1)), '{}'::datemultirange) FROM unnest(days) AS d
$$;

-- And back: each day of a multirange.
CREATE FUNCTION span_days(span datemultirange) RETURNS SETOF date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT d::date
  FROM unnest(span) AS r,
       generate_series(lower(r)::timestamp, (upper(r) - 1)::timestamp, interval '1 day') AS d
$$;

CREATE FUNCTION span_length(span datemultirange) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT COALESCE(sum(upper(r) - lower(r)), 0)::integer FROM unnest(span) AS r
$$;

CREATE TABLE place_months
(
    restaurant_id uuid      NOT NULL,
    service       text      NOT NULL,
    month         date      NOT NULL CHECK (extract(day FROM month) = 1),
    -- NULL where no booking nor admin has set the day's capacity yet: the override or the
    -- period's default then applies.
    capacity      integer[] NOT NULL CHECK (cardinality(capacity) = 31),
    taken         integer[] NOT NULL CHECK (cardinality(taken) = 31),
    PRIMARY KEY (restaurant_id, service, month),
    CHECK (month_fits(taken, capacity))
);

CREATE TABLE held_spans
(
    reservation_id uuid           NOT NULL PRIMARY KEY,
    child_id       uuid           NOT NULL,
    restaurant_id  uuid           NOT NULL,
    service        text           NOT NULL,
    days           datemultirange NOT NULL
);
CREATE INDEX held_spans_restaurant ON held_spans (restaurant_id, service);

CREATE TABLE child_meals
(
    child_id uuid           NOT NULL,
    service  text           NOT NULL,
    days     datemultirange NOT NULL,
    PRIMARY KEY (child_id, service)
);

-- The rows of the old shape, converted.
INSERT INTO place_months (restaurant_id, service, month, capacity, taken)
SELECT restaurant_id, service, month_of(date),
       month_values(array_agg(day_of(date)), array_agg(capacity)),
       -- a day without a row had none taken
       month_capacities(month_values(array_agg(day_of(date)), array_agg(taken)),
                        month_counts('{}'))
  FROM places
 GROUP BY restaurant_id, service, month_of(date);

INSERT INTO held_spans (reservation_id, child_id, restaurant_id, service, days)
SELECT reservation_id, child_id, restaurant_id, service, range_agg(daterange(date, date + 1))
  FROM held_days
 GROUP BY reservation_id, child_id, restaurant_id, service;

INSERT INTO child_meals (child_id, service, days)
SELECT child_id, service, range_agg(daterange(date, date + 1))
  FROM held_days
 GROUP BY child_id, service;

DROP TABLE held_days;
DROP TABLE places;

-- One row per day, as the tables were.
CREATE VIEW places AS
SELECT pm.restaurant_id, pm.service, (pm.month + (u.i - 1)::integer) AS date,
       u.capacity, u.taken
  FROM place_months pm,
       unnest(pm.capacity, pm.taken) WITH ORDINALITY AS u(capacity, taken, i)
 WHERE u.capacity IS NOT NULL;

CREATE VIEW held_days AS
SELECT h.reservation_id, h.child_id, h.restaurant_id, h.service, d AS date
  FROM held_spans h, span_days(h.days) AS d;
