-- Each town's log is its own `events` table, in its own schema, written by its own role (0033).
-- Two things its readers did still looked at the whole database, and with twenty towns on one
-- install they made each town wait for all the others (the benchmark with `--towns 20`):

-- 1. The commit-safe horizon (0032) was the oldest running transaction of the database that
--    was not a consumer's: a command of any town held back the readers of every town's log,
--    whose projectors then polled every 2 ms until it committed. Another town's transaction
--    cannot append to this log (its role may not), so it is left out like a consumer's. It is
--    recognised by its connection's name: the service connects for a town under the name
--    `cantine-town:<its schema>` (`db::towns::town_options`; PostgreSQL keeps 63 characters of
--    it), and switches to the town's role, which `pg_stat_activity` does not show (it shows the
--    user that logged in). Any other connection (a single-town install's, an operator's) stays
--    in, as does a town whose name cannot be told apart from this one's in 63 characters.
CREATE OR REPLACE FUNCTION commit_safe_horizon() RETURNS xid8
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
  WITH snapshot AS (SELECT pg_current_snapshot() AS s),
  this_log AS (
    SELECT left('cantine-town:' || c.relnamespace::regnamespace::text, 63) AS application
      FROM pg_class c WHERE c.oid = 'events'::regclass
  ),
  cannot_append AS (
    SELECT a.backend_xid FROM pg_stat_get_activity(NULL) a, this_log
     WHERE a.backend_xid IS NOT NULL
       AND (a.application_name = 'cantine-consumer'
            OR (a.application_name LIKE 'cantine-town:%'
                AND a.application_name <> this_log.application))
  )
  SELECT coalesce(
    (SELECT min(running) FROM snapshot, pg_snapshot_xip(snapshot.s) running
      WHERE NOT EXISTS (SELECT 1 FROM cannot_append c WHERE c.backend_xid = running::xid)),
    (SELECT pg_snapshot_xmax(snapshot.s) FROM snapshot))
$$;

-- 2. The wake-up (0002): NOTIFY channels belong to the database, so every town's projectors
--    woke at every town's commit. Each log now notifies on a channel of its own, named after its
--    table's oid (a schema's name may be too long for a channel's); the projector listens to
--    the channel of the `events` its search path finds.
CREATE OR REPLACE FUNCTION notify_events_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cantine_events_' || TG_RELID::text, '');
    RETURN NULL;
END $$;
