-- Keys for service-to-service reads of the audit API. Only the SHA-256 of each
-- key is kept; the key itself is printed once, when it is created.
CREATE TABLE api_key
(
    id           uuid PRIMARY KEY,
    name         text        NOT NULL,
    key_hash     text        NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
