-- `as_of` finds the last event recorded at or before a moment with one probe.
CREATE INDEX events_recorded ON events (recorded_at, global_position);
