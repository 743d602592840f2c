-- The auditors' verifications run from the back office: a job whose progress and outcome are
-- kept, so that the page shows the latest result and a run survives the request that started it.
CREATE TABLE audit_verifications
(
    id             uuid PRIMARY KEY,
    started_at     timestamptz NOT NULL,
    started_by     uuid        NOT NULL,
    -- 'chain' (checking the audit chain), 'projections' (replaying the log), 'done', 'failed'
    phase          text        NOT NULL,
    -- when the job last said it was alive: a run silent for long was cut by a stop
    updated_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    checked        bigint,
    changed        bigint[]    NOT NULL DEFAULT '{}',
    removed        bigint[]    NOT NULL DEFAULT '{}',
    inserted       bigint[]    NOT NULL DEFAULT '{}',
    -- per projection table, the rows that differ from a replay from zero
    differences    jsonb,
    error          text
);
-- One run at a time: a second start while one runs joins it.
CREATE UNIQUE INDEX audit_verifications_one_running ON audit_verifications ((true))
    WHERE finished_at IS NULL;
CREATE INDEX audit_verifications_latest ON audit_verifications (started_at DESC);
