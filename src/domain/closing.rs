//! When an invite stops being usable, the one home of both rules: its time runs
//! out (expiry), or an event closes it (cancelled, rejected, expired; which
//! event does is `InviteEvent::closing`, beside the events, and the unit test
//! there checks it against `CLOSING_EVENTS`). The read
//! models, the audit queries, the quota count and the sweeper take the Rust
//! forms or the SQL forms from here; `tests/api/rule_forms.rs` checks that the
//! two forms agree in PostgreSQL.

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};

/// An invite whose `expires_at` has come is expired at `now`, whether or not
/// its `Expired` event is recorded yet.
pub fn is_expired(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    expires_at <= now
}

/// `is_expired` in SQL: `expires_at` and `now` are a column (or expression)
/// and a placeholder of the statement.
pub fn expired_sql(expires_at: &str, now: &str) -> String {
    format!("{expires_at} <= {now}")
}

/// Why an invite can no longer be used, once and for all (the event that
/// closed it: `InviteEvent::closing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Closed {
    Cancelled,
    Rejected,
    Expired,
}

/// The stored `event_type` of every event that closes an invite (those
/// `InviteEvent::closing` names).
pub const CLOSING_EVENTS: [&str; 3] = ["Cancelled", "Rejected", "Expired"];

/// `CLOSING_EVENTS` as an SQL list, for `event_type IN (...)`.
pub fn closing_events_sql() -> String {
    CLOSING_EVENTS
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn an_invite_is_expired_from_its_expiry_on() {
        let expires = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(!is_expired(expires, expires - Duration::microseconds(1)));
        assert!(is_expired(expires, expires));
        assert!(is_expired(expires, expires + Duration::days(1)));
    }
}
