-- A seat held for a Better Auth sign-up (`SeatReserved`) is that user's act:
-- the feed's `actor` filter and a person's activity find it by their id.
-- `SeatReleased` is the ledger's own (after asking the plugin): no actor.
CREATE OR REPLACE FUNCTION ledger_actor(aggregate_type text, aggregate_id text, payload json)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$
SELECT CASE
           WHEN aggregate_type = 'user'
               THEN COALESCE(payload -> 'RoleSet' ->> 'by_user_id',
                             payload -> 'Erased' ->> 'by_user_id',
                             aggregate_id)
           ELSE COALESCE(payload -> 'Created' ->> 'inviter_id',
                         payload -> 'Used' ->> 'user_id',
                         payload -> 'Activated' ->> 'by_user_id',
                         payload -> 'Cancelled' ->> 'by_user_id',
                         payload -> 'Rejected' ->> 'by_user_id',
                         payload -> 'Resent' ->> 'by_user_id',
                         payload -> 'Refused' -> 'refusal' ->> 'user_id',
                         payload -> 'SeatReserved' ->> 'user_id')
           END
$$;

-- No `SeatReserved` event exists before the companion migrations ship with
-- this one, so the index's entries are unchanged; it is rebuilt anyway
-- because its function changed.
REINDEX INDEX events_actor;
