-- The commit-safe horizon of the event log: events of transactions older than it can be read in
-- order, because no transaction still running can commit an event before them.
--
-- It used to be `pg_snapshot_xmin(pg_current_snapshot())`: the oldest transaction still running,
-- whatever it does. But the log's consumers (projections, e-mails, waiting lists, the audit
-- chain) write their own rows in transactions too, and never append events: while one of them
-- applied a batch, every event committed after its start waited for it, and with seven consumers
-- the cart's projection lag doubled. A consumer now registers its transaction here as its batch
-- begins (an autocommitted row of an unlogged table: no WAL, no flush), and the horizon is the
-- oldest running transaction not registered, or the snapshot's xmax when there is none.
--
-- Leaving out a registered transaction is safe because a consumer never appends; a consumer not
-- yet registered only makes the others wait longer. A row left by a crash names a transaction
-- that no longer runs: it leaves nothing out, and the consumers delete such rows as they start.
CREATE UNLOGGED TABLE consumer_transactions (
    xid xid8 PRIMARY KEY
);

CREATE FUNCTION commit_safe_horizon() RETURNS xid8
LANGUAGE sql STABLE PARALLEL RESTRICTED AS $$
  WITH snapshot AS (SELECT pg_current_snapshot() AS s)
  SELECT coalesce(
    (SELECT min(running) FROM snapshot, pg_snapshot_xip(snapshot.s) running
      WHERE NOT EXISTS (SELECT 1 FROM consumer_transactions c WHERE c.xid = running)),
    (SELECT pg_snapshot_xmax(snapshot.s) FROM snapshot))
$$;
