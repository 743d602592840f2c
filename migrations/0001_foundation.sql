-- The event store of postgres-es, plus three columns postgres-es never names (so they keep their
-- defaults): a global position, the writing transaction's id and the commit-side timestamp.
-- A reader ordering by (transaction_id, global_position) below the oldest running transaction
-- never skips an event that commits late.
CREATE TABLE events
(
    aggregate_type  text                         NOT NULL,
    aggregate_id    text                         NOT NULL,
    sequence        bigint CHECK (sequence >= 0) NOT NULL,
    event_type      text                         NOT NULL,
    event_version   text                         NOT NULL,
    payload         jsonb                        NOT NULL,
    metadata        jsonb                        NOT NULL,
    global_position bigint GENERATED ALWAYS AS IDENTITY,
    transaction_id  xid8                         NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at     timestamptz                  NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE UNIQUE INDEX events_global_position ON events (global_position);
CREATE INDEX events_commit_order ON events (transaction_id, global_position);

-- Only used by snapshotting stores, which this service avoids (cqrs-es 0.5.0 applies new events
-- twice there); kept so that postgres-es finds the table it knows.
CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          jsonb                                NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);

CREATE TABLE organisations
(
    id                      uuid PRIMARY KEY,
    name                    text        NOT NULL,
    address                 text        NOT NULL DEFAULT '',
    next_reservation_number bigint      NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE restaurants
(
    id              uuid PRIMARY KEY,
    organisation_id uuid        NOT NULL REFERENCES organisations (id),
    name            text        NOT NULL,
    capacity        integer     NOT NULL CHECK (capacity >= 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- A booking period: its rules (dates, opening days, closures, cut-off) and payment mode are
-- stored as the domain's own JSON shapes, read back by the domain's types.
CREATE TABLE periods
(
    id            uuid PRIMARY KEY,
    restaurant_id uuid          NOT NULL REFERENCES restaurants (id),
    activity      text          NOT NULL,
    label         text          NOT NULL,
    service       jsonb         NOT NULL,
    rules         jsonb         NOT NULL,
    payment       jsonb         NOT NULL,
    unit_price    numeric(10, 2) NOT NULL CHECK (unit_price >= 0),
    capacity      integer       NOT NULL CHECK (capacity >= 0),
    created_at    timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX periods_restaurant ON periods (restaurant_id);

CREATE TABLE families
(
    id              uuid PRIMARY KEY,
    organisation_id uuid        NOT NULL REFERENCES organisations (id),
    name            text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE children
(
    id          uuid PRIMARY KEY,
    family_id   uuid        NOT NULL REFERENCES families (id),
    first_name  text        NOT NULL,
    last_name   text        NOT NULL,
    -- a menu choice, nothing more
    meal_option text        NOT NULL CHECK (meal_option IN ('standard', 'vegetarian', 'no_pork')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX children_family ON children (family_id);

CREATE TABLE users
(
    id            uuid PRIMARY KEY,
    login         text        NOT NULL,
    password_hash text,
    role          text        NOT NULL CHECK (role IN ('family', 'admin', 'kitchen', 'finance', 'auditor')),
    family_id     uuid REFERENCES families (id),
    failed_logins integer     NOT NULL DEFAULT 0,
    locked_at     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'family') = (family_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_login ON users (lower(login));

-- Only a hash of each token is kept: a leaked table gives no usable session.
CREATE TABLE sessions
(
    token_hash bytea PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE payments
(
    id              uuid PRIMARY KEY,
    family_id       uuid          NOT NULL REFERENCES families (id),
    reservation_ids uuid[]        NOT NULL,
    amount          numeric(12, 2) NOT NULL,
    status          text          NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_ref    text,
    created_at      timestamptz   NOT NULL,
    settled_at      timestamptz
);
CREATE INDEX payments_family ON payments (family_id);

-- Gapless invoice numbers: the counter row is updated in the transaction that inserts the invoice.
CREATE TABLE invoice_counters
(
    organisation_id uuid    NOT NULL REFERENCES organisations (id),
    year            integer NOT NULL,
    last_number     bigint  NOT NULL,
    PRIMARY KEY (organisation_id, year)
);

CREATE TABLE invoices
(
    id              uuid PRIMARY KEY,
    organisation_id uuid          NOT NULL REFERENCES organisations (id),
    family_id       uuid          NOT NULL REFERENCES families (id),
    payment_id      uuid UNIQUE REFERENCES payments (id),
    number          text          NOT NULL UNIQUE,
    issued_at       timestamptz   NOT NULL,
    total           numeric(12, 2) NOT NULL,
    lines           jsonb         NOT NULL
);
CREATE INDEX invoices_family ON invoices (family_id, issued_at DESC);

-- Read model of reservations, fed from the event log by the projector.
CREATE TABLE projection_checkpoints
(
    name                text PRIMARY KEY,
    last_transaction_id xid8        NOT NULL DEFAULT '0',
    last_position       bigint      NOT NULL DEFAULT 0,
    last_recorded_at    timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservation_view
(
    id               uuid PRIMARY KEY,
    number           bigint         NOT NULL,
    organisation_id  uuid           NOT NULL,
    family_id        uuid           NOT NULL,
    child_id         uuid           NOT NULL,
    child_first_name text           NOT NULL,
    child_last_name  text           NOT NULL,
    restaurant_id    uuid           NOT NULL,
    restaurant_name  text           NOT NULL,
    period_id        uuid           NOT NULL,
    period_activity  text           NOT NULL,
    period_label     text           NOT NULL,
    created_at       timestamptz    NOT NULL,
    first_day        date           NOT NULL,
    last_day         date           NOT NULL,
    status           text           NOT NULL,
    total            numeric(12, 2) NOT NULL,
    pay_before       timestamptz
);
CREATE INDEX reservation_view_family ON reservation_view (family_id, created_at DESC, number DESC);
CREATE INDEX reservation_view_awaiting ON reservation_view (pay_before) WHERE status = 'awaiting_payment';

CREATE TABLE reservation_day_view
(
    reservation_id uuid          NOT NULL,
    date           date          NOT NULL,
    child_id       uuid          NOT NULL,
    restaurant_id  uuid          NOT NULL,
    period_id      uuid          NOT NULL,
    service        text          NOT NULL,
    meal_option    text          NOT NULL,
    unit_price     numeric(10, 2) NOT NULL,
    status         text          NOT NULL,
    PRIMARY KEY (reservation_id, date)
);
CREATE INDEX reservation_day_view_child ON reservation_day_view (child_id, date);
CREATE INDEX reservation_day_view_period ON reservation_day_view (period_id, date);
