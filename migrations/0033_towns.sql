-- Issue 19: several towns on one install. Each town's data lives in a schema of its own
-- (`town_…`), created and migrated by `cantine town add`, owned by a role of its own that has no
-- right on any other town's schema; the service connects for a town as that role, with only
-- that schema on its search path. This registry says which host name serves which town; it
-- lives in `public` only (these migrations also run in every town's schema, where it is not
-- created). An install without a registered town serves its `public` schema on any host, as
-- before.
DO $$
BEGIN
    IF current_schema() = 'public' THEN
        CREATE TABLE towns (
            id          uuid        PRIMARY KEY,
            host        text        NOT NULL UNIQUE CHECK (host ~ '^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$'),
            schema_name text        NOT NULL UNIQUE CHECK (schema_name ~ '^town_[a-z0-9_]{1,40}$'),
            -- Roles are the cluster's, not the database's: a suffix keeps two databases'
            -- towns of the same host apart.
            role_name   text        NOT NULL UNIQUE CHECK (role_name ~ '^town_[a-z0-9_]{1,40}_[0-9a-f]{8}$'),
            name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
            created_at  timestamptz NOT NULL DEFAULT now()
        );
    END IF;
END
$$;
