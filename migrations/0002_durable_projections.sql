-- Projections wake on NOTIFY, sent at commit by every transaction that appends events.
CREATE FUNCTION notify_events_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cantine_events', '');
    RETURN NULL;
END $$;
CREATE TRIGGER events_appended AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION notify_events_appended();

-- Invoices are events now (their number belongs to the log): the table of 0001 gives way to a
-- projection of InvoiceIssued events.
DROP TABLE invoices;

-- Gapless numbering: the counter row moves in the transaction that appends the InvoiceIssued
-- event, so a failure leaves no hole. `invoice_keys` makes issuing idempotent (one invoice per
-- payment, one per family and month) even with two servers.
CREATE TABLE invoice_keys
(
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    key             text NOT NULL,
    invoice_id      uuid NOT NULL,
    PRIMARY KEY (organisation_id, key)
);

CREATE TABLE invoice_view
(
    id              uuid PRIMARY KEY,
    organisation_id uuid           NOT NULL,
    family_id       uuid           NOT NULL,
    number          text           NOT NULL UNIQUE,
    kind            text           NOT NULL,
    issued_at       timestamptz    NOT NULL,
    period_month    text,
    payment_id      uuid,
    total           numeric(12, 2) NOT NULL,
    document        jsonb          NOT NULL
);
CREATE INDEX invoice_view_family ON invoice_view (family_id, issued_at DESC);
CREATE INDEX invoice_view_issued ON invoice_view (organisation_id, issued_at);

-- Daily headcount per restaurant, service and meal option.
CREATE TABLE headcount_view
(
    restaurant_id    uuid    NOT NULL,
    period_id        uuid    NOT NULL,
    date             date    NOT NULL,
    service          text    NOT NULL,
    meal_option      text    NOT NULL,
    booked           integer NOT NULL DEFAULT 0,
    awaiting_payment integer NOT NULL DEFAULT 0,
    PRIMARY KEY (restaurant_id, date, service, meal_option, period_id)
);
CREATE INDEX headcount_view_period ON headcount_view (period_id, date);

-- The audit chain: each event's hash covers its canonical form and the previous hash, in
-- commit order. Sealed by its own projector right after commit.
CREATE TABLE audit_chain
(
    global_position bigint PRIMARY KEY,
    chain_index     bigint NOT NULL UNIQUE,
    hash            text   NOT NULL
);

-- Postpaid invoicing needs the payment mode of each reservation.
ALTER TABLE reservation_view ADD COLUMN payment_mode text NOT NULL DEFAULT 'prepaid';
