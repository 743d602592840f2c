-- The commit-safe horizon of the event log: events of transactions older than it can be read in
-- order, because no transaction still running can commit an event before them.
--
-- It used to be `pg_snapshot_xmin(pg_current_snapshot())`: the oldest transaction still running,
-- whatever it does. But the log's consumers (projections, e-mails, waiting lists, the audit
-- chain) write their own rows in transactions too, and never append events: while one of them
-- applied a batch, every event committed after its start waited for it, and with seven consumers
-- the cart's projection lag doubled. Their connections carry the application name
-- `cantine-consumer` (their own pool, whose connections live as long as the server), so their
-- transactions are left out: the horizon is the oldest running transaction that is not a
-- consumer's, or the snapshot's xmax when there is none.
--
-- Leaving out a transaction is safe only because it cannot append events: the consumers' pool
-- runs nothing else. Leaving one in (a consumer whose xid is not yet shown) only waits longer.
CREATE FUNCTION commit_safe_horizon() RETURNS xid8
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
  WITH snapshot AS (SELECT pg_current_snapshot() AS s),
  consumers AS (
    SELECT a.backend_xid FROM pg_stat_get_activity(NULL) a
     WHERE a.application_name = 'cantine-consumer' AND a.backend_xid IS NOT NULL
  )
  SELECT coalesce(
    (SELECT min(running) FROM snapshot, pg_snapshot_xip(snapshot.s) running
      WHERE NOT EXISTS (SELECT 1 FROM consumers c WHERE c.backend_xid = running::xid)),
    (SELECT pg_snapshot_xmax(snapshot.s) FROM snapshot))
$$;
