-- Issue 8: the documents the town's administrators publish for families (the canteen's rules,
-- the tariff deliberation). The file itself is kept in the row: documents are few and small
-- (a few PDF pages, at most 5 MiB, checked before the insert), and one backup then holds
-- everything. A withdrawn document stays, for the record of what families could read and when.
CREATE TABLE documents
(
    id              uuid PRIMARY KEY,
    organisation_id uuid        NOT NULL REFERENCES organisations (id),
    title           text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    kind            text        NOT NULL CHECK (kind IN ('rules', 'tariffs', 'other')),
    file_name       text        NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
    content_type    text        NOT NULL,
    bytes           bytea       NOT NULL,
    size            integer     NOT NULL CHECK (size = octet_length(bytes) AND size <= 5242880),
    uploaded_by     uuid        NOT NULL REFERENCES users (id),
    uploaded_at     timestamptz NOT NULL,
    withdrawn_by    uuid REFERENCES users (id),
    withdrawn_at    timestamptz,
    CHECK ((withdrawn_at IS NULL) = (withdrawn_by IS NULL))
);
CREATE INDEX documents_by_organisation ON documents (organisation_id, uploaded_at DESC);
