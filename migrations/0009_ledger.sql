-- Issue 5: payments as events, credits, refunds and the families' ledger.

-- The payment row is the write model of a payment (like `places` for seats): its status decides
-- which notification still has an effect, and `version` is the sequence of its last event, so
-- that the event and the status change are stored in one transaction.
ALTER TABLE payments
    ADD COLUMN credit_used numeric(12, 2) NOT NULL DEFAULT 0,
    ADD COLUMN version     bigint         NOT NULL DEFAULT 1;

-- Credit a family can spend: granted by credit notes (cancelled paid days), taken by the payment
-- that uses it, given back when that payment fails or a reservation of it is refunded. Kept in
-- the transactions that record those events, so two payments cannot spend one credit.
CREATE TABLE family_credits
(
    family_id uuid PRIMARY KEY REFERENCES families (id),
    available numeric(12, 2) NOT NULL DEFAULT 0
);

-- One refund per payment and reservation, however often the notification comes.
CREATE TABLE refunds
(
    payment_id     uuid           NOT NULL REFERENCES payments (id),
    reservation_id uuid           NOT NULL,
    family_id      uuid           NOT NULL REFERENCES families (id),
    amount         numeric(12, 2) NOT NULL,
    reason         text           NOT NULL,
    recorded_at    timestamptz    NOT NULL,
    PRIMARY KEY (payment_id, reservation_id)
);

-- Credit notes are numbered in their own series (`AV-2017-000001`), still without gaps.
ALTER TABLE invoice_counters ADD COLUMN series text NOT NULL DEFAULT 'invoice';
ALTER TABLE invoice_counters DROP CONSTRAINT invoice_counters_pkey;
ALTER TABLE invoice_counters ADD PRIMARY KEY (organisation_id, series, year);

-- The ledger projection: every charge, credit, payment and refund of a family, one row per
-- restaurant it concerns. `amount` is signed from the family's side: what it owes is negative.
CREATE TABLE ledger_view
(
    position        bigint         NOT NULL,
    line            integer        NOT NULL,
    organisation_id uuid           NOT NULL,
    family_id       uuid           NOT NULL,
    entry           text           NOT NULL CHECK (entry IN ('invoice', 'credit_note', 'payment', 'refund')),
    reference       text           NOT NULL,
    restaurant      text           NOT NULL,
    label           text           NOT NULL,
    amount          numeric(12, 2) NOT NULL,
    occurred_at     timestamptz    NOT NULL,
    PRIMARY KEY (position, line)
);
CREATE INDEX ledger_view_family ON ledger_view (family_id, occurred_at);
CREATE INDEX ledger_view_month ON ledger_view (organisation_id, occurred_at);
