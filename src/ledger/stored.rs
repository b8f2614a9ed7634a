//! How an event is stored in `events.payload`: serde's external tagging of its
//! aggregate's event enum, `{"<Type>": {<field>: ...}}`, fields named as in
//! Rust. SQL that reads a field of a stored event takes its path from here
//! (migration 0009's `ledger_actor` reads the same shape; migrations stay as
//! they were applied), and the tests below check each path against the events
//! as serde writes them.

/// `Created`'s invite id.
pub const CREATED_INVITE_ID: &[&str] = &["Created", "terms", "invite_id"];
/// `Created`'s seat count.
pub const CREATED_MAX_USES: &[&str] = &["Created", "terms", "max_uses"];
/// `Created`'s unlimited uses (`infinityMaxUses`), absent when false.
pub const CREATED_INFINITY_MAX_USES: &[&str] = &["Created", "terms", "infinity_max_uses"];
/// `Created`'s expiry.
pub const CREATED_EXPIRES_AT: &[&str] = &["Created", "terms", "expires_at"];
/// When the invite says it was created (the domain time, not `recorded_at`).
pub const CREATED_AT: &[&str] = &["Created", "at"];
/// The role a use found the account with.
pub const USED_ROLE_BEFORE: &[&str] = &["Used", "role_before"];
/// The role a use left the account with.
pub const USED_ROLE_AFTER: &[&str] = &["Used", "role_after"];
/// The person a use was for.
pub const USED_USER_ID: &[&str] = &["Used", "user_id"];
/// The held seat a use confirms (a companion sign-up's), if any.
pub const USED_RESERVATION_ID: &[&str] = &["Used", "reservation_id"];

/// An organization's name and slug as Better Auth created it.
pub const ORGANIZATION_CREATED_NAME: &[&str] = &["OrganizationCreated", "name"];
pub const ORGANIZATION_CREATED_SLUG: &[&str] = &["OrganizationCreated", "slug"];

/// The field at `path` of the stored event, as text, in SQL: `payload` (of
/// `table`, if given) `-> 'Created' -> 'terms' ->> 'max_uses'`.
pub fn field_sql(table: Option<&str>, path: &[&str]) -> String {
    let mut sql = match table {
        Some(table) => format!("{table}.payload"),
        None => "payload".to_string(),
    };
    for (i, key) in path.iter().enumerate() {
        let arrow = if i + 1 == path.len() { "->>" } else { "->" };
        sql.push_str(&format!(" {arrow} '{key}'"));
    }
    sql
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::Value;
    use uuid::Uuid;

    use super::*;
    use crate::domain::invite::{InviteEvent, InviteTerms};
    use crate::domain::token::TokenType;

    fn stored(event: &InviteEvent) -> Value {
        serde_json::to_value(event).unwrap()
    }

    fn at(value: &Value, path: &[&str]) -> Option<Value> {
        value.pointer(&format!("/{}", path.join("/"))).cloned()
    }

    #[test]
    fn every_path_reads_a_field_of_the_events_as_serde_writes_them() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let created = stored(&InviteEvent::Created {
            terms: InviteTerms {
                invite_id: Uuid::nil(),
                token_type: TokenType::Token,
                role: "member".into(),
                email: None,
                invitee_id: None,
                invitee_name: None,
                new_account: true,
                max_uses: 3,
                infinity_max_uses: true,
                expires_at: now,
                redirect_to_sign_up: "/up".into(),
                redirect_to_sign_in: "/in".into(),
                redirect_to_after_upgrade: "/after".into(),
                share_inviter_name: false,
                sender_response_redirect: "signUp".into(),
                sealed_token: None,
                custom_invite_url: None,
            },
            inviter_id: "a".into(),
            inviter_name: "A".into(),
            inviter_email: "a@example.com".into(),
            inviter_role: "admin".into(),
            at: now,
        });
        let used = stored(&InviteEvent::Used {
            invite_id: Uuid::nil(),
            inviter_id: "a".into(),
            user_id: "b".into(),
            user_email: "b@example.com".into(),
            role_before: "user".into(),
            role_after: "member".into(),
            new_account: false,
            at: now,
            reservation_id: Some(Uuid::nil()),
        });
        assert_eq!(at(&created, CREATED_MAX_USES), Some(3.into()));
        assert_eq!(at(&created, CREATED_INFINITY_MAX_USES), Some(true.into()));
        assert_eq!(
            at(&created, CREATED_INVITE_ID),
            Some(Uuid::nil().to_string().into())
        );
        assert!(at(&created, CREATED_EXPIRES_AT).is_some_and(|v| v.is_string()));
        assert!(at(&created, CREATED_AT).is_some_and(|v| v.is_string()));
        assert_eq!(at(&used, USED_ROLE_BEFORE), Some("user".into()));
        assert_eq!(at(&used, USED_ROLE_AFTER), Some("member".into()));
        assert_eq!(at(&used, USED_USER_ID), Some("b".into()));
        assert_eq!(
            at(&used, USED_RESERVATION_ID),
            Some(Uuid::nil().to_string().into())
        );
    }

    #[test]
    fn a_path_becomes_arrows_with_text_at_the_end() {
        assert_eq!(
            field_sql(None, CREATED_MAX_USES),
            "payload -> 'Created' -> 'terms' ->> 'max_uses'"
        );
        assert_eq!(
            field_sql(Some("c"), CREATED_INVITE_ID),
            "c.payload -> 'Created' -> 'terms' ->> 'invite_id'"
        );
    }
}
