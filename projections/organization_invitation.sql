-- Organization invitations as Better Auth's organization plugin made them and
-- what became of each: one row per Better Auth invitation id.
CREATE TABLE organization_invitation
(
    id              text PRIMARY KEY,
    organization_id text        NOT NULL,
    email           text        NOT NULL,
    -- the invitee's person id (from the email), for erasure
    invitee_id      text        NOT NULL,
    role            text        NOT NULL,
    team_id         text,
    inviter_id      text        NOT NULL,
    -- pending | accepted | rejected | canceled | expired (as recorded; a pending
    -- one past `expires_at` reads as expired at the moment asked)
    status          text        NOT NULL,
    expires_at      timestamptz NOT NULL,
    resent          integer     NOT NULL,
    created_at      timestamptz NOT NULL,
    -- who closed it (accepted, rejected, canceled) and when
    closed_by       text,
    closed_at       timestamptz,
    -- closed_at is when a reconciliation found the status (it came before)
    closed_observed boolean     NOT NULL,
    -- the member the acceptance made
    member_id       text,
    updated_at      timestamptz NOT NULL,
    -- when the ledger recorded the creation: what `as_of` compares with
    recorded_at     timestamptz NOT NULL,
    last_position   bigint      NOT NULL
);

CREATE INDEX organization_invitation_organization ON organization_invitation (organization_id, created_at);
CREATE INDEX organization_invitation_inviter ON organization_invitation (inviter_id);

CREATE TABLE organization_invitation_history
(
    LIKE organization_invitation,
    valid_from          timestamptz NOT NULL,
    valid_from_position bigint      NOT NULL,
    valid_to            timestamptz,
    valid_to_position   bigint
);

CREATE UNIQUE INDEX organization_invitation_history_version
    ON organization_invitation_history (id, valid_from_position);
CREATE INDEX organization_invitation_history_current
    ON organization_invitation_history (id) WHERE valid_to IS NULL;
CREATE INDEX organization_invitation_history_organization
    ON organization_invitation_history (organization_id, valid_from);
