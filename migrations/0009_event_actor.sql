-- Who acted in an event: the user who created, activated, used, cancelled,
-- rejected or resent an invite (or was refused a use of it), the account that registered, the admin who set
-- a role (`Expired` has none). The audit feed's `actor` filter and a user's
-- role history look events up by it, through the index below, not a scan.
CREATE FUNCTION ledger_actor(aggregate_type text, aggregate_id text, payload json)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$
SELECT CASE
           WHEN aggregate_type = 'user'
               THEN COALESCE(payload -> 'RoleSet' ->> 'by_user_id', aggregate_id)
           ELSE COALESCE(payload -> 'Created' ->> 'inviter_id',
                         payload -> 'Used' ->> 'user_id',
                         payload -> 'Activated' ->> 'by_user_id',
                         payload -> 'Cancelled' ->> 'by_user_id',
                         payload -> 'Rejected' ->> 'by_user_id',
                         payload -> 'Resent' ->> 'by_user_id',
                         payload -> 'Refused' -> 'refusal' ->> 'user_id')
           END
$$;

CREATE INDEX IF NOT EXISTS events_actor
    ON events (ledger_actor(aggregate_type, aggregate_id, payload), transaction_id, global_position);

-- The feed's time-range filter and the diff between two moments use
-- `events_recorded` (0008).
