-- Email verification links: a mutable table beside the log, as password
-- reset links are. The token is kept as its keyed hash; its sealed form
-- waits here only until the email reactor has sent it. `email` is the
-- address the link proves (the account's own, or the new one of a change of
-- email); it is deleted with the person.
CREATE TABLE email_verification
(
    token_hash   text PRIMARY KEY,
    user_id      text        NOT NULL,
    purpose      text        NOT NULL CHECK (purpose IN ('verify', 'change')),
    email        text        NOT NULL,
    sealed_token text,
    callback_url text,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);

CREATE INDEX email_verification_user ON email_verification (user_id, created_at);
