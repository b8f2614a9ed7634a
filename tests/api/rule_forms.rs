//! The rules written for both Rust and SQL (`domain::closing`: expiry and the
//! events that close an invite; `ledger::stored`: where a stored event keeps
//! its fields) say the same in PostgreSQL as in Rust.

use chrono::{Duration, TimeZone, Utc};
use invite_ledger::domain::closing::{self, CLOSING_EVENTS};
use invite_ledger::domain::invite::{InviteEvent, InviteTerms};
use invite_ledger::domain::token::TokenType;
use invite_ledger::ledger::{stored, EVENT_TYPES};
use uuid::Uuid;

use crate::helpers::{small_pool, TestDb};

#[tokio::test]
async fn expiry_and_closing_events_read_the_same_in_sql_and_rust() {
    let db = TestDb::new().await;
    let pool = small_pool(&db.url).await.unwrap();

    let expires = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let expired = format!(
        "SELECT {}",
        closing::expired_sql("$1::timestamptz", "$2::timestamptz")
    );
    for now in [
        expires - Duration::days(3),
        expires - Duration::microseconds(1),
        expires,
        expires + Duration::microseconds(1),
        expires + Duration::days(3),
    ] {
        let in_sql: bool = sqlx::query_scalar(&expired)
            .bind(expires)
            .bind(now)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(
            in_sql,
            closing::is_expired(expires, now),
            "expires {expires}, now {now}"
        );
    }

    let closes = format!("SELECT $1 IN ({})", closing::closing_events_sql());
    for event_type in EVENT_TYPES {
        let in_sql: bool = sqlx::query_scalar(&closes)
            .bind(event_type)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(in_sql, CLOSING_EVENTS.contains(event_type), "{event_type}");
    }
}

#[tokio::test]
async fn stored_event_paths_find_the_fields_serde_writes() {
    let db = TestDb::new().await;
    let pool = small_pool(&db.url).await.unwrap();
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let invite_id = Uuid::new_v4();
    let created = InviteEvent::Created {
        terms: InviteTerms {
            invite_id,
            token_type: TokenType::Token,
            role: "member".into(),
            email: None,
            invitee_id: None,
            invitee_name: None,
            new_account: true,
            max_uses: 7,
            infinity_max_uses: false,
            expires_at: at + Duration::days(2),
            redirect_to_sign_up: "/up".into(),
            redirect_to_sign_in: "/in".into(),
            redirect_to_after_upgrade: "/after".into(),
            share_inviter_name: false,
            sender_response_redirect: "signUp".into(),
            sealed_token: None,
            custom_invite_url: None,
        },
        inviter_id: "inviter".into(),
        inviter_name: "Inviter".into(),
        inviter_email: "inviter@example.com".into(),
        inviter_role: "admin".into(),
        at,
    };
    let sql = format!(
        "SELECT ({})::uuid, ({})::bigint, ({})::timestamptz, ({})::timestamptz
           FROM (SELECT $1::jsonb AS payload) e",
        stored::field_sql(Some("e"), stored::CREATED_INVITE_ID),
        stored::field_sql(Some("e"), stored::CREATED_MAX_USES),
        stored::field_sql(Some("e"), stored::CREATED_EXPIRES_AT),
        stored::field_sql(Some("e"), stored::CREATED_AT),
    );
    let read: (Uuid, i64, chrono::DateTime<Utc>, chrono::DateTime<Utc>) = sqlx::query_as(&sql)
        .bind(serde_json::to_value(&created).unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(read, (invite_id, 7, at + Duration::days(2), at));

    let reservation = Uuid::new_v4();
    let used = InviteEvent::Used {
        invite_id,
        inviter_id: "inviter".into(),
        user_id: "user".into(),
        user_email: "user@example.com".into(),
        role_before: "user".into(),
        role_after: "member".into(),
        new_account: false,
        at,
        reservation_id: Some(reservation),
    };
    let sql = format!(
        "SELECT {}, {}, {}, {} FROM (SELECT $1::jsonb AS payload) e",
        stored::field_sql(Some("e"), stored::USED_ROLE_BEFORE),
        stored::field_sql(Some("e"), stored::USED_ROLE_AFTER),
        stored::field_sql(Some("e"), stored::USED_USER_ID),
        stored::field_sql(Some("e"), stored::USED_RESERVATION_ID),
    );
    let read: (String, String, String, String) = sqlx::query_as(&sql)
        .bind(serde_json::to_value(&used).unwrap())
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        read,
        (
            "user".to_string(),
            "member".to_string(),
            "user".to_string(),
            reservation.to_string()
        )
    );
}
