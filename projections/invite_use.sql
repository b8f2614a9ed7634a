-- The `invite_use` audit trail: one row per use of an invite.
CREATE TABLE invite_use
(
    position     bigint PRIMARY KEY,
    invite_id    uuid        NOT NULL,
    inviter_id   text        NOT NULL,
    user_id      text        NOT NULL,
    user_email   text        NOT NULL,
    role_before  text        NOT NULL,
    role_granted text        NOT NULL,
    new_account  boolean     NOT NULL,
    used_at      timestamptz NOT NULL,
    -- when the ledger recorded the use: what `as_of` compares with
    recorded_at  timestamptz NOT NULL
);

CREATE INDEX invite_use_invite ON invite_use (invite_id);
CREATE INDEX invite_use_user ON invite_use (user_id);
CREATE INDEX invite_use_inviter ON invite_use (inviter_id);

-- Every version of every row (a use never changes: one each), with the time
-- range in which it held; `as_of` reads the versions valid at its time.
CREATE TABLE invite_use_history
(
    LIKE invite_use,
    valid_from          timestamptz NOT NULL,
    valid_from_position bigint      NOT NULL,
    valid_to            timestamptz,
    valid_to_position   bigint
);

CREATE UNIQUE INDEX invite_use_history_version ON invite_use_history (position, valid_from_position);
CREATE INDEX invite_use_history_current ON invite_use_history (position) WHERE valid_to IS NULL;
