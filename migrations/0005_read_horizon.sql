-- The oldest transaction of this database that may still commit events. Log
-- readers take only events of older transactions, so a late commit is never
-- skipped. `pg_snapshot_xmin` alone would be that bound for the whole server:
-- a long transaction in another database on the same PostgreSQL would stall
-- every reader here. So a running transaction is left out only when
-- pg_stat_activity shows it belongs to another database; anything unknown
-- (already ended, not visible to this role) still counts, which only delays.
CREATE FUNCTION ledger_read_horizon() RETURNS xid8
    LANGUAGE sql STABLE AS
$$
WITH snap AS (SELECT pg_current_snapshot() AS s)
SELECT COALESCE(
    (SELECT min(running)
       FROM snap, pg_snapshot_xip(snap.s) AS running
      WHERE running::xid NOT IN (SELECT backend_xid
                                   FROM pg_stat_activity
                                  WHERE backend_xid IS NOT NULL
                                    AND datname IS DISTINCT FROM current_database())),
    (SELECT pg_snapshot_xmax(s) FROM snap))
$$;
