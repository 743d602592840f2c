-- Idempotency keys (issue 5, item 4): a POST repeated with the same `Idempotency-Key` within
-- 24 hours gets the first answer back and does nothing else.
--
-- `scope` is the caller (a SHA-256 of the Authorization header, or 'anonymous'), so that a key
-- reused by someone else never returns another caller's answer. `fingerprint` is the request
-- (method, path, query, SHA-256 of the body): the same key on another request is refused.
-- `owner` is the claim of the request running the handler; a row left 'in_progress' by a server
-- that died is taken over once `started_at` is older than the lease (about a minute).
-- Times come from the service's injected clock, like every rule's.
CREATE TABLE idempotency_keys
(
    scope       text        NOT NULL,
    key         text        NOT NULL,
    fingerprint text        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('in_progress', 'complete')),
    owner       uuid        NOT NULL,
    status      smallint,
    headers     jsonb,
    body        bytea,
    created_at  timestamptz NOT NULL,
    started_at  timestamptz NOT NULL,
    PRIMARY KEY (scope, key),
    CHECK (state = 'in_progress' OR (status IS NOT NULL AND headers IS NOT NULL AND body IS NOT NULL))
);
-- The purge of keys past their 24 hours.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
