-- Receipts of `Idempotency-Key` requests: one per user and key, written in the
-- same transaction as the events the request appended, so a retry finds either
-- both or neither. `answer` is the first answer's body, sealed with the server's
-- key (a public invite's answer holds its token). Receipts older than 24 hours
-- are ignored, replaced by a new request with the same key, and swept now and then.
CREATE TABLE idempotency_receipt
(
    user_id     text        NOT NULL,
    key         text        NOT NULL,
    -- SHA-256 of the route, the query string and the body.
    fingerprint bytea       NOT NULL,
    status      smallint    NOT NULL,
    answer      text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE INDEX idempotency_receipt_created_at ON idempotency_receipt (created_at);
