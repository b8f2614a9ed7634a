-- Rate-limit counters, shared by every replica: one fixed window per bucket
-- (a limit's name and what it counts: a client address or an account).
-- Rows of windows long over are deleted now and then by the server.
CREATE TABLE rate_limit (
    bucket       text        PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL
);
CREATE INDEX rate_limit_window_start ON rate_limit (window_start);
