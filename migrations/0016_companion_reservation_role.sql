-- The role a seat's user had when it was reserved, so that a `confirm` that
-- names the user (email and name, from the plugin) appends the use without
-- loading the invite twice. Never personal: a role.
ALTER TABLE companion_reservation ADD COLUMN role_before text;
