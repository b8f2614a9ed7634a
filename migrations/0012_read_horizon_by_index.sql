-- 0007's `ledger_read_horizon()`, with its second test asked of the index.
-- "Is any event younger than the oldest running transaction?" was a query with
-- a parameter inside PL/pgSQL: its generic plan may scan the whole events table
-- (about half a second at a million events), and every batch of every log
-- follower asks. The youngest event's transaction is the last entry of
-- `events_global_order`: one index probe, whatever the size of the log.
CREATE OR REPLACE FUNCTION ledger_read_horizon() RETURNS xid8
    LANGUAGE plpgsql STABLE AS
$$
DECLARE
    snap     pg_snapshot := pg_current_snapshot();
    oldest   xid8;
    youngest xid8;
BEGIN
    SELECT min(running) INTO oldest FROM pg_snapshot_xip(snap) AS running;
    IF oldest IS NULL THEN
        RETURN pg_snapshot_xmax(snap);
    END IF;
    SELECT transaction_id INTO youngest
      FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1;
    IF youngest IS NULL OR youngest <= oldest THEN
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
