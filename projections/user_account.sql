-- Accounts and their current roles. A role is whatever the ledger says last:
-- the role at registration, an admin's RoleSet, or an invite's Used.
CREATE TABLE user_account
(
    id            text PRIMARY KEY,
    email         text        NOT NULL,
    name          text        NOT NULL,
    image         text,
    -- the address was proven by a link sent to it
    email_verified boolean    NOT NULL DEFAULT false,
    role          text        NOT NULL,
    -- who invited this account into existence, when it signed up with an invite
    invited_by    text,
    -- the admin plugin's ban: refused sign-in until `ban_expires` (for good when null)
    banned        boolean     NOT NULL DEFAULT false,
    ban_reason    text,
    ban_expires   timestamptz,
    -- the ledger's own account (it signed up here), not a Better Auth user
    own_account   boolean     NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE INDEX user_account_invited_by ON user_account (invited_by);
-- One account per email among the ledger's own accounts; erased accounts all
-- read `[erased]`. Better Auth users (not `own_account`) are keyed by Better
-- Auth's ids, and Better Auth may give a deleted user's email to a new one.
CREATE UNIQUE INDEX user_account_email ON user_account (email)
    WHERE email <> '[erased]' AND own_account;

-- Every version of every account row, with the time range in which it held;
-- `as_of` reads the versions valid at its time.
CREATE TABLE user_account_history
(
    LIKE user_account,
    valid_from          timestamptz NOT NULL,
    valid_from_position bigint      NOT NULL,
    valid_to            timestamptz,
    valid_to_position   bigint
);

CREATE UNIQUE INDEX user_account_history_version ON user_account_history (id, valid_from_position);
CREATE INDEX user_account_history_current ON user_account_history (id) WHERE valid_to IS NULL;
CREATE INDEX user_account_history_invited_by ON user_account_history (invited_by, valid_from);
