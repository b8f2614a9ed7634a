-- Password hashes live here, outside the append-only log: a secret in an
-- event would stay there for ever, readable after the person is erased.
-- `Registered` events written before this table existed still carry their
-- hash in the log (it cannot be rewritten); the newest one of each person
-- not erased since is copied here, and the events are read without it.
CREATE TABLE password
(
    user_id text PRIMARY KEY,
    hash    text        NOT NULL,
    set_at  timestamptz NOT NULL
);

INSERT INTO password (user_id, hash, set_at)
SELECT DISTINCT ON (r.aggregate_id) r.aggregate_id,
       r.payload -> 'Registered' ->> 'password_hash',
       r.recorded_at
  FROM events r
 WHERE r.aggregate_type = 'user'
   AND r.event_type = 'Registered'
   AND r.payload -> 'Registered' ->> 'password_hash' IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM events e
                    WHERE e.aggregate_type = 'user' AND e.aggregate_id = r.aggregate_id
                      AND e.event_type = 'Erased' AND e.sequence > r.sequence)
 ORDER BY r.aggregate_id, r.sequence DESC;
