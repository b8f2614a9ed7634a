-- Sign-in sessions. Operational state, not ledger history: only the hash of each
-- session token is kept.
CREATE TABLE session
(
    id         uuid PRIMARY KEY,
    token_hash text        NOT NULL UNIQUE,
    user_id    text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    ip_address text,
    user_agent text
);

CREATE INDEX session_by_user ON session (user_id);
