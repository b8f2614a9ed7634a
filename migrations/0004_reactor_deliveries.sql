-- Reactors: processes that follow the log and cause side effects (email,
-- webhooks). Each keeps its checkpoint in `projection_checkpoint` (name
-- `reactor:<name>`), written in the same transaction as the deliveries it plans,
-- so every event is planned exactly once; each delivery is then performed at
-- least once, with every attempt recorded.
CREATE TABLE reactor_delivery
(
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reactor         text        NOT NULL,
    -- The event that called for it, in the global order.
    event_xid       xid8        NOT NULL,
    event_position  bigint      NOT NULL,
    -- Deliveries with one key go out in order when the reactor asks for it
    -- (webhooks: one invite's events); a failing one holds back the rest.
    ordering_key    text        NOT NULL,
    -- What to deliver; never a secret in plain text.
    payload         jsonb       NOT NULL,
    -- pending | delivered | parked
    status          text        NOT NULL DEFAULT 'pending',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A worker that claimed it; another may take it over once the lease ends.
    leased_until    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (reactor, event_position)
);

CREATE INDEX reactor_delivery_due ON reactor_delivery (reactor, next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX reactor_delivery_key ON reactor_delivery (reactor, ordering_key, id)
    WHERE status <> 'delivered';

-- Every attempt at a delivery: when, how it went, and why it failed.
CREATE TABLE reactor_attempt
(
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  bigint      NOT NULL REFERENCES reactor_delivery (id),
    attempt      integer     NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL DEFAULT now(),
    -- delivered | failed
    outcome      text        NOT NULL,
    error        text
);

CREATE INDEX reactor_attempt_delivery ON reactor_attempt (delivery_id);
