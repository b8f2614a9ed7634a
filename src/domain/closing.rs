//! When an invite stops being usable, the one home of both rules: its time runs
//! out (expiry), or an event closes it (cancelled, rejected, expired). The read
//! models, the audit queries, the quota count and the sweeper take the Rust
//! forms or the SQL forms from here; `tests/api/rule_forms.rs` checks that the
//! two forms agree in PostgreSQL.

use chrono::{DateTime, Utc};

use super::invite::{Closed, InviteEvent};

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

impl InviteEvent {
    /// How this event closes its invite, if it does.
    pub fn closing(&self) -> Option<Closed> {
        match self {
            InviteEvent::Cancelled { .. } => Some(Closed::Cancelled),
            InviteEvent::Rejected { .. } => Some(Closed::Rejected),
            InviteEvent::Expired { .. } => Some(Closed::Expired),
            InviteEvent::Created { .. }
            | InviteEvent::Activated { .. }
            | InviteEvent::Used { .. }
            | InviteEvent::Resent { .. }
            | InviteEvent::Refused { .. } => None,
        }
    }
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
    use cqrs_es::DomainEvent;

    use super::*;
    use crate::domain::invite::Refusal;

    fn every_event() -> Vec<InviteEvent> {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let by = || "user-1".to_string();
        vec![
            InviteEvent::Activated {
                by_user_id: None,
                at,
            },
            InviteEvent::Cancelled {
                by_user_id: by(),
                at,
            },
            InviteEvent::Rejected {
                by_user_id: by(),
                at,
            },
            InviteEvent::Expired { at },
            InviteEvent::Resent {
                by_user_id: by(),
                at,
            },
            InviteEvent::Refused {
                refusal: Refusal {
                    attempt: "use".into(),
                    reason: "INVITE_EXPIRED".into(),
                    user_id: None,
                    email: None,
                    client_address: None,
                    user_agent: None,
                },
                at,
            },
        ]
    }

    #[test]
    fn the_closing_list_names_exactly_the_events_that_close() {
        for event in every_event() {
            assert_eq!(
                event.closing().is_some(),
                CLOSING_EVENTS.contains(&event.event_type().as_str()),
                "{}",
                event.event_type()
            );
        }
        assert_eq!(closing_events_sql(), "'Cancelled', 'Rejected', 'Expired'");
    }

    #[test]
    fn an_invite_is_expired_from_its_expiry_on() {
        let expires = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(!is_expired(expires, expires - Duration::microseconds(1)));
        assert!(is_expired(expires, expires));
        assert!(is_expired(expires, expires + Duration::days(1)));
    }
}
