-- Memberships of organizations, one row per Better Auth member id: its role,
-- how it began (an invitation accepted, or added) and how it ended.
CREATE TABLE organization_member
(
    id              text PRIMARY KEY,
    organization_id text        NOT NULL,
    user_id         text        NOT NULL,
    role            text        NOT NULL,
    -- the role was found by a reconciliation (since when, unknown)
    role_observed   boolean     NOT NULL,
    -- member | removed | left
    status          text        NOT NULL,
    invitation_id   text,
    added_by        text,
    added_at        timestamptz NOT NULL,
    ended_by        text,
    ended_at        timestamptz,
    -- ended_at is when a reconciliation found the row gone (it ended before)
    ended_observed  boolean     NOT NULL,
    updated_at      timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    last_position   bigint      NOT NULL
);

CREATE INDEX organization_member_organization ON organization_member (organization_id, added_at);
CREATE INDEX organization_member_user ON organization_member (user_id);

CREATE TABLE organization_member_history
(
    LIKE organization_member,
    valid_from          timestamptz NOT NULL,
    valid_from_position bigint      NOT NULL,
    valid_to            timestamptz,
    valid_to_position   bigint
);

CREATE UNIQUE INDEX organization_member_history_version
    ON organization_member_history (id, valid_from_position);
CREATE INDEX organization_member_history_current
    ON organization_member_history (id) WHERE valid_to IS NULL;
CREATE INDEX organization_member_history_organization
    ON organization_member_history (organization_id, valid_from);
