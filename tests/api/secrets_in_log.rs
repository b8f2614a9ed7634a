//! No secret in the log: password hashes, session and invite tokens live in
//! mutable tables; a dump of `events` shows none of them.

use crate::helpers::{ledger::sign_up_with, TestServer, ADMIN_PASSWORD};
use invite_ledger::domain::user::user_id_for_email;
use serde_json::json;

/// Every event as stored: payload and metadata, one line each.
async fn dump_of_events(server: &TestServer) -> String {
    sqlx::query_scalar(
        "SELECT coalesce(string_agg(payload::text || ' ' || metadata::text, E'\n'), '')
           FROM events",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_dump_of_events_holds_no_password_hash_or_token() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let public = admin.create_invite(json!({ "role": "user" })).await;
    let (_, _) = sign_up_with(&server, &public, "joiner@example.com").await;
    let private = server
        .private_invite(&admin, "user", "private@example.com")
        .await;
    let invitee = server.client();
    invitee.activate(&private).await.ok();
    let signed_up = invitee
        .sign_up("private@example.com", "password1", "Private")
        .await
        .ok();
    let session_token = signed_up["token"].as_str().unwrap().to_string();
    let admin_session = server.admin_token().await;

    let hashes: Vec<String> = sqlx::query_scalar("SELECT hash FROM password")
        .fetch_all(server.pool().await)
        .await
        .unwrap();
    assert_eq!(hashes.len(), 3, "the admin and two sign-ups: {hashes:?}");
    let dump = dump_of_events(&server).await;
    assert!(dump.contains("Registered"), "{dump}");
    for secret in hashes
        .iter()
        .map(String::as_str)
        .chain(["$argon2", "password_hash", "password1", ADMIN_PASSWORD])
        .chain([public.as_str(), private.as_str()])
        .chain([session_token.as_str(), admin_session.as_str()])
    {
        assert!(!dump.contains(secret), "`{secret}` is in the log:\n{dump}");
    }
    // The passwords still work, and only they.
    server
        .client()
        .sign_in("joiner@example.com", "password1")
        .await
        .ok();
    server
        .client()
        .sign_in("joiner@example.com", "password2")
        .await
        .err(401, "INVALID_EMAIL_OR_PASSWORD");
}

/// An account registered before hashes left the log: the upgrade copies its
/// hash out of the old `Registered` event, which is read without it.
#[tokio::test]
async fn an_account_from_before_the_upgrade_signs_in() {
    let server = TestServer::start().await;
    let email = "old.timer@example.com";
    let id = user_id_for_email(email);
    let hash = invite_ledger::auth::password::hash(
        "old password".into(),
        server.app.settings.password_cost,
    )
    .await
    .unwrap();
    let registered = json!({ "Registered": {
        "email": email, "name": "Old Timer", "password_hash": hash,
        "role": "user", "at": "2026-01-02T03:04:05Z"
    }});
    sqlx::query(
        "INSERT INTO events
            (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('user', $1, 1, 'Registered', '1', $2, '{}')",
    )
    .bind(&id)
    .bind(registered)
    .execute(server.pool().await)
    .await
    .unwrap();
    // The migration's copy, as it runs on a log written before it.
    let migration = include_str!("../../migrations/0017_passwords.sql");
    let copy = &migration[migration.find("INSERT INTO password").unwrap()..];
    sqlx::raw_sql(copy)
        .execute(server.pool().await)
        .await
        .unwrap();

    let signed_in = crate::helpers::eventually(
        10,
        || async { server.client().sign_in(email, "old password").await },
        |reply| reply.status == 200,
    )
    .await
    .ok();
    assert_eq!(signed_in["user"]["name"], "Old Timer");
}

/// Verification and change-of-email links: their tokens (and their hashes in
/// `email_verification`) are never in the log; the new address is sealed.
#[tokio::test]
async fn verification_links_leave_no_token_in_the_log() {
    let server = TestServer::start_with(&["--require-email-verification", "true"]).await;
    let client = server.client();
    let signed_up = client
        .sign_up("vic@example.com", "password1", "Vic")
        .await
        .ok();
    assert_eq!(signed_up["token"], serde_json::Value::Null);
    let verify = server.mailer.wait_for("vic@example.com", 1).await[0]
        .token
        .clone();
    client
        .get(&format!("/api/auth/verify-email?token={verify}"))
        .await
        .ok();
    client.sign_in("vic@example.com", "password1").await.ok();
    client
        .post(
            "/api/auth/change-email",
            json!({ "newEmail": "victor@example.com" }),
        )
        .await
        .ok();
    let change = server.mailer.wait_for("victor@example.com", 1).await[0]
        .token
        .clone();
    let changed = client
        .get(&format!("/api/auth/verify-email?token={change}"))
        .await
        .ok();
    assert_eq!(changed["user"]["email"], "victor@example.com");

    let hashes: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM email_verification")
        .fetch_all(server.pool().await)
        .await
        .unwrap();
    assert_eq!(hashes.len(), 2);
    let dump = dump_of_events(&server).await;
    for event in [
        "EmailVerified",
        "EmailChanged",
        "VerificationEmailRequested",
    ] {
        assert!(dump.contains(event), "{event} missing:\n{dump}");
    }
    for secret in hashes.iter().map(String::as_str).chain([
        verify.as_str(),
        change.as_str(),
        "victor@example.com",
    ]) {
        assert!(!dump.contains(secret), "`{secret}` is in the log:\n{dump}");
    }
    // A used link is used up.
    client
        .get(&format!("/api/auth/verify-email?token={verify}"))
        .await
        .err(401, "INVALID_TOKEN");
}
