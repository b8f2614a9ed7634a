-- Accounts and their current roles. A role is whatever the ledger says last:
-- the role at registration, an admin's RoleSet, or an invite's Used.
CREATE TABLE user_account
(
    id            text PRIMARY KEY,
    email         text        NOT NULL UNIQUE,
    name          text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL,
    -- who invited this account into existence, when it signed up with an invite
    invited_by    text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
