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
    used_at      timestamptz NOT NULL
);

CREATE INDEX invite_use_invite ON invite_use (invite_id);
CREATE INDEX invite_use_user ON invite_use (user_id);
CREATE INDEX invite_use_inviter ON invite_use (inviter_id);
