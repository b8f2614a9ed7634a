-- Seats held for Better Auth sign-ups (`/api/companion/invite/reserve`): which
-- invite and key each belongs to, so `confirm` needs only the reservation's id
-- and the settling reactor knows whom to ask. The seat itself is in the log.
CREATE TABLE companion_reservation
(
    reservation_id uuid PRIMARY KEY,
    invite_hash    text        NOT NULL,
    api_key_id     uuid        NOT NULL REFERENCES api_key (id) ON DELETE CASCADE,
    user_id        text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
