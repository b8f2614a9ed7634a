-- The same bound as 0005's `ledger_read_horizon()`, cheaper: reading
-- pg_stat_activity costs about half a millisecond, and every batch of every log
-- follower asks. So it is read only when it can change the answer:
-- 1. no transaction is running: the snapshot's xmax;
-- 2. no visible event is younger than the oldest running transaction: that
--    transaction holds nothing back, so it is the bound whatever its database;
-- 3. otherwise, as before, the oldest running transaction not known to belong
--    to another database (straight from pg_stat_get_activity, without the
--    view's joins).
CREATE OR REPLACE FUNCTION ledger_read_horizon() RETURNS xid8
    LANGUAGE plpgsql STABLE AS
$$
DECLARE
    snap   pg_snapshot := pg_current_snapshot();
    oldest xid8;
BEGIN
    SELECT min(running) INTO oldest FROM pg_snapshot_xip(snap) AS running;
    IF oldest IS NULL THEN
        RETURN pg_snapshot_xmax(snap);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM events WHERE transaction_id > oldest) THEN
        RETURN oldest;
    END IF;
    RETURN COALESCE(
        (SELECT min(running)
           FROM pg_snapshot_xip(snap) AS running
          WHERE running::xid NOT IN (
                SELECT a.backend_xid
                  FROM pg_stat_get_activity(NULL) AS a
                 WHERE a.backend_xid IS NOT NULL
                   AND a.datid IS DISTINCT FROM (SELECT oid FROM pg_database
                                                  WHERE datname = current_database()))),
        pg_snapshot_xmax(snap));
END
$$;
