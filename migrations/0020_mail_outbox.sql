-- E-mail notifications (issue 18): the consumer of the log decides which e-mails an event causes
-- and records each here, with its checkpoint (`projection_checkpoints`, name 'notifications'), in
-- one transaction; the sender sends from here, with retries and backoff. One row per event and
-- kind: a replayed batch cannot record an e-mail twice. Personal data (address, text): kept as
-- sent, for the staff to see what a family was told.
CREATE TABLE mail_outbox
(
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_position    bigint      NOT NULL,
    kind              text        NOT NULL,
    family_id         uuid,
    recipient         text        NOT NULL,
    subject           text        NOT NULL,
    text_body         text        NOT NULL,
    html_body         text        NOT NULL,
    status            text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts          integer     NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL,
    last_error        text,
    created_at        timestamptz NOT NULL,
    sent_at           timestamptz,
    UNIQUE (event_position, kind, recipient)
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'pending';

-- A database that already has a log starts notifying from its end: families are not sent
-- e-mails about what happened before notifications existed.
INSERT INTO projection_checkpoints (name, last_transaction_id, last_position, last_recorded_at)
SELECT 'notifications', e.transaction_id, e.global_position, e.recorded_at
  FROM events e
 ORDER BY e.transaction_id DESC, e.global_position DESC
 LIMIT 1
ON CONFLICT (name) DO NOTHING;
