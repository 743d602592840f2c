-- SEPA direct debit (issue 16, point 5).

-- The organisation as a SEPA creditor: its identifier (ICS), the account it is paid on and the
-- name its debtors read. Set by finance; each change is also a `SepaCreditorSet` event.
ALTER TABLE organisations
    ADD COLUMN sepa_creditor_name text,
    ADD COLUMN sepa_creditor_id   text,
    ADD COLUMN sepa_iban          text,
    ADD COLUMN sepa_bic           text;

-- A family's mandates, written with their `MandateSigned` / `MandateRevoked` events. The mandate
-- reference (RUM) is unique per organisation, for ever (a revoked one is not reused); a family
-- has at most one mandate in force.
CREATE TABLE sepa_mandates
(
    id              uuid PRIMARY KEY,
    organisation_id uuid        NOT NULL REFERENCES organisations (id),
    family_id       uuid        NOT NULL REFERENCES families (id),
    rum             text        NOT NULL,
    iban            text        NOT NULL,
    bic             text        NOT NULL,
    holder          text        NOT NULL,
    signed_on       date        NOT NULL,
    sequence        text        NOT NULL CHECK (sequence IN ('first', 'recurrent')),
    recorded_at     timestamptz NOT NULL,
    revoked_at      timestamptz,
    revoked_reason  text,
    UNIQUE (organisation_id, rum)
);
CREATE UNIQUE INDEX sepa_mandates_in_force ON sepa_mandates (family_id) WHERE revoked_at IS NULL;

-- Each collection batch as written (its file is kept byte for byte: what was sent to the bank),
-- numbered per organisation and year in its message id.
CREATE TABLE sepa_batches
(
    id              uuid PRIMARY KEY,
    organisation_id uuid           NOT NULL REFERENCES organisations (id),
    month           text           NOT NULL,
    message_id      text           NOT NULL UNIQUE,
    prenotified_on  date           NOT NULL,
    collection_date date           NOT NULL,
    created_at      timestamptz    NOT NULL,
    transactions    integer        NOT NULL,
    control_sum     numeric(12, 2) NOT NULL,
    xml             text           NOT NULL
);
CREATE INDEX sepa_batches_month ON sepa_batches (organisation_id, month, created_at);

-- A debit is a payments row (method 'sepa') like a desk payment, settled when presented; a
-- rejection sets `reversed_at` (the invoices are due again) and keeps its reason code.
ALTER TABLE payments
    ADD COLUMN sepa_batch_id   uuid REFERENCES sepa_batches (id),
    ADD COLUMN sepa_mandate_id uuid REFERENCES sepa_mandates (id),
    ADD COLUMN reject_code     text;
CREATE INDEX payments_sepa_batch ON payments (sepa_batch_id) WHERE sepa_batch_id IS NOT NULL;
