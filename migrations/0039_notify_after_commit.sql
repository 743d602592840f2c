-- Issue 21: a NOTIFY sent by a writing transaction holds the database's notify lock from its
-- pre-commit to its end, WAL flush included, so every appending transaction of every town
-- committed one after the other (`--wait-events`: appends waiting on `Lock: object`). The
-- service's reservation appends now set `cantine.notify_after_commit` for their transaction and
-- notify after their commit from a statement that writes nothing (`src/store/wake.rs`); every
-- other writer (the other aggregates, the CLI, psql, a restore) still notifies here.
CREATE OR REPLACE FUNCTION notify_events_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('cantine.notify_after_commit', true) IS DISTINCT FROM 'on' THEN
        PERFORM pg_notify('cantine_events_' || TG_RELID::text, '');
    END IF;
    RETURN NULL;
END $$;
