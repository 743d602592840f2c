-- Waiting lists (issue 18, point 4). The lists themselves are events of `WaitingList` aggregates
-- (one per restaurant, service and day); `waitlist_entries` is their projection ('waitlist'),
-- rebuilt from the log like the others: who waits, in the order they joined.
CREATE TABLE waitlist_entries
(
    organisation_id   uuid        NOT NULL,
    restaurant_id     uuid        NOT NULL,
    restaurant_name   text        NOT NULL,
    service           text        NOT NULL,
    date              date        NOT NULL,
    period_id         uuid        NOT NULL,
    family_id         uuid        NOT NULL,
    child_id          uuid        NOT NULL,
    child_first_name  text        NOT NULL,
    child_last_name   text        NOT NULL,
    -- The join event's sequence in its list: the order of the line.
    joined_sequence   bigint      NOT NULL,
    joined_at         timestamptz NOT NULL,
    PRIMARY KEY (restaurant_id, service, date, child_id)
);
CREATE INDEX waitlist_entries_family ON waitlist_entries (family_id, date);
CREATE INDEX waitlist_entries_day ON waitlist_entries (organisation_id, date);

-- The days whose list must be looked at again (a place freed, a child booked, a child joined,
-- a capacity raised), written by the 'waitlist_promotion' consumer of the log with its
-- checkpoint, and by the capacity change. The promoter job claims a row for a while, gives the
-- day's freed places to the first in line, and deletes the row if nothing bumped its version
-- meanwhile: a restart or a second server loses no day.
CREATE TABLE waitlist_due
(
    restaurant_id  uuid        NOT NULL,
    service        text        NOT NULL,
    date           date        NOT NULL,
    version        integer     NOT NULL DEFAULT 1,
    claimed_until  timestamptz,
    PRIMARY KEY (restaurant_id, service, date)
);

-- A database that already has a log starts its promotion consumer at its end: no list existed.
INSERT INTO projection_checkpoints (name, last_transaction_id, last_position, last_recorded_at)
SELECT 'waitlist_promotion', e.transaction_id, e.global_position, e.recorded_at
  FROM events e
 ORDER BY e.transaction_id DESC, e.global_position DESC
 LIMIT 1
ON CONFLICT (name) DO NOTHING;
