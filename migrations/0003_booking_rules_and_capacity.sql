-- Places per restaurant, service and day. Taken and given back in the same transaction that
-- appends the reservation's events, so no place is sold twice and none leaks when a command
-- fails. `capacity` is the period's default or the day's override.
CREATE TABLE places
(
    restaurant_id uuid    NOT NULL,
    service       text    NOT NULL,
    date          date    NOT NULL,
    capacity      integer NOT NULL CHECK (capacity >= 0),
    taken         integer NOT NULL DEFAULT 0 CHECK (taken >= 0),
    PRIMARY KEY (restaurant_id, service, date),
    CHECK (taken <= capacity)
);

-- The days each reservation holds. One meal per child, day and service, whatever the
-- reservation: the unique key refuses the second.
CREATE TABLE held_days
(
    reservation_id uuid NOT NULL,
    child_id       uuid NOT NULL,
    restaurant_id  uuid NOT NULL,
    service        text NOT NULL,
    date           date NOT NULL,
    PRIMARY KEY (reservation_id, date),
    UNIQUE (child_id, date, service)
);
CREATE INDEX held_days_place ON held_days (restaurant_id, service, date);

-- Admins narrow or widen a day's capacity (a school trip, a staff shortage).
CREATE TABLE capacity_overrides
(
    period_id uuid    NOT NULL REFERENCES periods (id),
    date      date    NOT NULL,
    capacity  integer NOT NULL CHECK (capacity >= 0),
    PRIMARY KEY (period_id, date)
);

-- Unconfirmed requests hold places too, until this instant; confirmed prepaid ones until
-- pay_before. The expiry task reads it.
ALTER TABLE reservation_view ADD COLUMN expires_at timestamptz;
CREATE INDEX reservation_view_expiring ON reservation_view (expires_at)
    WHERE status IN ('requested', 'awaiting_payment');
