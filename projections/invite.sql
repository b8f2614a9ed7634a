-- The `invite` view: the current state of every invite, from the ledger.
-- Disposable: `invite-ledger projections rebuild` drops and replays it.
CREATE TABLE invite
(
    id                        uuid PRIMARY KEY,
    token_hash                text        NOT NULL UNIQUE,
    token_type                text        NOT NULL,
    role                      text        NOT NULL,
    email                     text,
    -- the invitee's user id (`user_id_for_email`), kept beside the email so
    -- an erasure finds the invitee's rows once the email reads `[erased]`
    invitee_id                text,
    new_account               boolean     NOT NULL,
    inviter_id                text        NOT NULL,
    inviter_name              text        NOT NULL,
    inviter_email             text        NOT NULL,
    max_uses                  integer     NOT NULL,
    -- unlimited uses (better-invite's `infinityMaxUses`): max_uses is then 1
    infinity_max_uses         boolean     NOT NULL,
    uses                      integer     NOT NULL,
    activations               integer     NOT NULL,
    -- pending | used_up | cancelled | rejected | expired
    status                    text        NOT NULL,
    share_inviter_name        boolean     NOT NULL,
    redirect_to_sign_up       text        NOT NULL,
    redirect_to_sign_in       text        NOT NULL,
    redirect_to_after_upgrade text        NOT NULL,
    sender_response_redirect  text        NOT NULL,
    created_at                timestamptz NOT NULL,
    -- when the ledger recorded the creation: what `as_of` compares with
    recorded_at               timestamptz NOT NULL,
    expires_at                timestamptz NOT NULL,
    last_used_at              timestamptz,
    closed_at                 timestamptz,
    closed_by                 text,
    updated_at                timestamptz NOT NULL,
    last_position             bigint      NOT NULL
);

CREATE INDEX invite_inviter ON invite (inviter_id);
CREATE INDEX invite_email ON invite (email);
CREATE INDEX invite_status ON invite (status);
CREATE INDEX invite_created ON invite (created_at, id);

-- Every version of every invite row, with the time range (the ledger's
-- recording times, and the positions of the events) in which it held. Written
-- with the view by the same fold; `as_of` reads the versions valid at its time.
CREATE TABLE invite_history
(
    LIKE invite,
    valid_from          timestamptz NOT NULL,
    valid_from_position bigint      NOT NULL,
    valid_to            timestamptz,
    valid_to_position   bigint
);

CREATE UNIQUE INDEX invite_history_version ON invite_history (token_hash, valid_from_position);
CREATE INDEX invite_history_current ON invite_history (token_hash) WHERE valid_to IS NULL;
CREATE INDEX invite_history_id ON invite_history (id, valid_from);
CREATE INDEX invite_history_created ON invite_history (created_at, id);
