-- Password reset links: a mutable table beside the log. The token is kept as
-- its keyed hash; its sealed form (under TOKEN_SEALING_KEY) waits here only
-- until the email reactor has sent it, and is cleared then.
CREATE TABLE password_reset
(
    token_hash   text PRIMARY KEY,
    user_id      text        NOT NULL,
    sealed_token text,
    callback_url text,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);

CREATE INDEX password_reset_user ON password_reset (user_id, created_at);
