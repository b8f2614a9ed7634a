-- A Better Auth server beside the ledger (docs/companion-protocol.md).
--
-- Each API key has a scope: `audit` keys read the audit API (every key made
-- before scopes existed is one), `companion` keys are the plugin's and may call
-- only `/api/companion/*`.
ALTER TABLE api_key
    ADD COLUMN scope text NOT NULL DEFAULT 'audit' CHECK (scope IN ('audit', 'companion'));

-- Where the plugin holding a companion key takes its calls (`hello`): mutable,
-- never in the log. The signing secret is derived, not stored.
CREATE TABLE companion_callback
(
    api_key_id   uuid PRIMARY KEY REFERENCES api_key (id) ON DELETE CASCADE,
    callback_url text        NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The Better Auth users the ledger knows, and through which key it met each:
-- where the roles the ledger decides for them are delivered.
CREATE TABLE companion_person
(
    user_id    text PRIMARY KEY,
    api_key_id uuid        NOT NULL REFERENCES api_key (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
