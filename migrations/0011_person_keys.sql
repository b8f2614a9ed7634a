-- Personal data in events (emails, names) is sealed per person with a key kept
-- here, outside the append-only log (decision 14, crypto-shredding). Erasing a
-- person deletes their key: the sealed fields in the log can no longer be
-- opened and read as `[erased]`, while the log itself is never rewritten.
--
-- A person is a user id: the UUID v5 of the normalized email
-- (`domain::user::user_id_for_email`), so an invitee without an account has a
-- key before the account exists, and keeps it when the account is made.
CREATE TABLE person_key
(
    person_id  text PRIMARY KEY,
    -- Sealed fields name the generation they were sealed with; a person
    -- invited again after an erasure gets a new key, and the fields sealed
    -- before stay unreadable.
    generation integer     NOT NULL DEFAULT 1,
    -- 32 random bytes (ChaCha20-Poly1305); NULL once erased.
    key        bytea CHECK (key IS NULL OR length(key) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Set by the (last) erasure: fields of events written before sealing
    -- existed (plain text in the log) are shown as `[erased]` from then on.
    erased_at  timestamptz,
    CHECK (key IS NOT NULL OR erased_at IS NOT NULL)
);

-- An erasure is recorded by the admin who asked for it: the feed's `actor`
-- filter finds `Erased` events by that admin, not by the person erased.
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
                         payload -> 'Refused' -> 'refusal' ->> 'user_id')
           END
$$;

-- No `Erased` event exists before this migration, so the index's entries are
-- unchanged; it is rebuilt anyway because its function changed.
REINDEX INDEX events_actor;
