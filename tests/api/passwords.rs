//! Better Auth's password and session routes: reset by an emailed link,
//! change, list and revoke sessions. Each change is an event of the person;
//! no token or hash is in the log.

use crate::helpers::{Client, TestServer};
use chrono::Duration;
use serde_json::json;

const RESET_ANSWER: &str =
    "If this email exists in our system, check your email for the reset link";

async fn request_reset(client: &Client, email: &str) -> serde_json::Value {
    client
        .post(
            "/api/auth/request-password-reset",
            json!({ "email": email, "redirectTo": "/reset" }),
        )
        .await
        .ok()
}

/// The token of the last reset link emailed to `to`.
async fn emailed_reset_token(server: &TestServer, to: &str, count: usize) -> String {
    let emails = server.mailer.wait_for(to, count).await;
    let email = emails.last().unwrap();
    assert!(
        email
            .url
            .starts_with("http://localhost:3000/api/auth/reset-password/")
            && email.url.ends_with("?callbackURL=%2Freset"),
        "{}",
        email.url
    );
    email.token.clone()
}

/// The user's events of `event_type`, as stored.
async fn stored(server: &TestServer, event_type: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT payload::text FROM events WHERE event_type = $1 ORDER BY global_position",
    )
    .bind(event_type)
    .fetch_all(server.pool().await)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_ends_every_session() {
    let server = TestServer::start().await;
    let laptop = server.client();
    laptop
        .sign_up("rita@example.com", "old-password", "Rita")
        .await
        .ok();
    let phone = server.client();
    phone.sign_in("rita@example.com", "old-password").await.ok();

    // The same answer whether or not the address has an account.
    let visitor = server.client();
    assert_eq!(
        request_reset(&visitor, "Rita@Example.com").await,
        json!({ "status": true, "message": RESET_ANSWER })
    );
    assert_eq!(
        request_reset(&visitor, "nobody@example.com").await,
        json!({ "status": true, "message": RESET_ANSWER })
    );
    let token = emailed_reset_token(&server, "rita@example.com", 1).await;
    assert!(server
        .mailer
        .0
        .lock()
        .unwrap()
        .iter()
        .all(|m| m.to != "nobody@example.com"));

    // The link checks the token and leads to the reset page with it.
    let link = visitor
        .get(&format!(
            "/api/auth/reset-password/{token}?callbackURL=/reset"
        ))
        .await;
    assert_eq!(link.location(), format!("/reset?token={token}"));
    let wrong = visitor
        .get("/api/auth/reset-password/not-a-token?callbackURL=/reset")
        .await;
    assert_eq!(wrong.location(), "/reset?error=INVALID_TOKEN");

    visitor
        .post(
            "/api/auth/reset-password",
            json!({ "token": token, "newPassword": "123" }),
        )
        .await
        .err(400, "PASSWORD_TOO_SHORT");
    let reset = visitor
        .post(
            "/api/auth/reset-password",
            json!({ "token": token, "newPassword": "new-password" }),
        )
        .await
        .ok();
    assert_eq!(reset, json!({ "status": true }));
    // Used once: a second use is refused.
    visitor
        .post(
            "/api/auth/reset-password",
            json!({ "token": token, "newPassword": "other-password" }),
        )
        .await
        .err(400, "INVALID_TOKEN");

    // Every session ended; only the new password opens one.
    assert!(laptop.get("/api/auth/get-session").await.body.is_null());
    assert!(phone.get("/api/auth/get-session").await.body.is_null());
    server
        .client()
        .sign_in("rita@example.com", "old-password")
        .await
        .err(401, "INVALID_EMAIL_OR_PASSWORD");
    server
        .client()
        .sign_in("rita@example.com", "new-password")
        .await
        .ok();

    // The person's history says when, never the token or the hash.
    let requested = stored(&server, "PasswordResetRequested").await;
    let set = stored(&server, "PasswordSet").await;
    let revoked = stored(&server, "SessionsRevoked").await;
    assert_eq!((requested.len(), set.len(), revoked.len()), (1, 1, 1));
    assert!(set[0].contains(r#""how":"reset""#), "{}", set[0]);
    assert!(revoked[0].contains(r#""which":"all""#), "{}", revoked[0]);
    let dump: Vec<String> = sqlx::query_scalar("SELECT payload::text FROM events")
        .fetch_all(server.pool().await)
        .await
        .unwrap();
    assert!(dump
        .iter()
        .all(|e| !e.contains(&token) && !e.contains("$argon2")));
    // The table keeps the link's hash alone.
    let sealed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM password_reset WHERE sealed_token IS NOT NULL")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
    assert_eq!(sealed, 0);

    // The audit API shows the events in the person's history.
    let admin = server.admin().await;
    let feed = admin
        .get("/api/ledger/events?type=PasswordSet")
        .await
        .ok()
        .to_string();
    assert!(feed.contains("PasswordSet"), "{feed}");
}

#[tokio::test]
async fn a_reset_link_expires_and_requests_per_address_are_limited() {
    let server = TestServer::start_with(&["--password-resets-per-email", "2"]).await;
    server
        .client()
        .sign_up("sam@example.com", "old-password", "Sam")
        .await
        .ok();
    let visitor = server.client();
    request_reset(&visitor, "sam@example.com").await;
    let token = emailed_reset_token(&server, "sam@example.com", 1).await;
    server.clock.advance(Duration::seconds(3601));
    visitor
        .post(
            "/api/auth/reset-password",
            json!({ "token": token, "newPassword": "new-password" }),
        )
        .await
        .err(400, "INVALID_TOKEN");

    // A third request within the hour answers the same and sends nothing.
    request_reset(&visitor, "sam@example.com").await;
    emailed_reset_token(&server, "sam@example.com", 2).await;
    let third = request_reset(&visitor, "sam@example.com").await;
    assert_eq!(third, json!({ "status": true, "message": RESET_ANSWER }));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(server.mailer.wait_for("sam@example.com", 2).await.len(), 2);
}

#[tokio::test]
async fn guessing_reset_tokens_is_limited_like_invite_tokens() {
    let server = TestServer::start_with(&["--activation-attempts-per-minute", "3"]).await;
    let guesser = server.client();
    for _ in 0..3 {
        guesser
            .post(
                "/api/auth/reset-password",
                json!({ "token": "guess", "newPassword": "new-password" }),
            )
            .await
            .err(400, "INVALID_TOKEN");
    }
    guesser
        .post(
            "/api/auth/reset-password",
            json!({ "token": "guess", "newPassword": "new-password" }),
        )
        .await
        .err(429, "TOO_MANY_REQUESTS");
}

#[tokio::test]
async fn change_password_checks_the_current_one_and_may_end_other_sessions() {
    let server = TestServer::start().await;
    let laptop = server.client();
    laptop
        .sign_up("tess@example.com", "old-password", "Tess")
        .await
        .ok();
    let phone = server.client();
    phone.sign_in("tess@example.com", "old-password").await.ok();

    laptop
        .post(
            "/api/auth/change-password",
            json!({ "currentPassword": "wrong", "newPassword": "new-password" }),
        )
        .await
        .err(400, "INVALID_PASSWORD");
    let changed = laptop
        .post(
            "/api/auth/change-password",
            json!({
                "currentPassword": "old-password",
                "newPassword": "new-password",
                "revokeOtherSessions": true,
            }),
        )
        .await
        .ok();
    assert_eq!(changed["user"]["email"], "tess@example.com");
    assert!(changed["token"].is_string(), "{changed}");
    // This session goes on; the other ended.
    laptop.session().await;
    assert!(phone.get("/api/auth/get-session").await.body.is_null());
    server
        .client()
        .sign_in("tess@example.com", "new-password")
        .await
        .ok();
    let set = stored(&server, "PasswordSet").await;
    assert!(set[0].contains(r#""how":"changed""#), "{}", set[0]);
    let revoked = stored(&server, "SessionsRevoked").await;
    assert!(revoked[0].contains("all_but_current"), "{}", revoked[0]);
}

#[tokio::test]
async fn the_user_lists_and_revokes_their_sessions() {
    let server = TestServer::start().await;
    let first = server.client();
    first
        .sign_up("uma@example.com", "password1", "Uma")
        .await
        .ok();
    let clients: Vec<Client> = (0..3).map(|_| server.client()).collect();
    for client in &clients {
        client.sign_in("uma@example.com", "password1").await.ok();
    }
    let listed = first.get("/api/auth/list-sessions").await.ok();
    let sessions = listed.as_array().unwrap();
    assert_eq!(sessions.len(), 4, "{listed}");
    let mine = first.session().await["session"]["id"].clone();
    let other = sessions.iter().find(|s| s["id"] != mine).unwrap();

    // One, by what the list shows; someone else's is not theirs to end.
    let stranger = server.user_with_role("vic@example.com", "user").await;
    stranger
        .post(
            "/api/auth/revoke-session",
            json!({ "token": other["token"] }),
        )
        .await
        .ok();
    assert_eq!(
        first
            .get("/api/auth/list-sessions")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        4
    );
    first
        .post(
            "/api/auth/revoke-session",
            json!({ "token": other["token"] }),
        )
        .await
        .ok();
    assert_eq!(
        first
            .get("/api/auth/list-sessions")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        3
    );

    first
        .post("/api/auth/revoke-other-sessions", json!({}))
        .await
        .ok();
    assert_eq!(
        first
            .get("/api/auth/list-sessions")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    first
        .post("/api/auth/revoke-sessions", json!({}))
        .await
        .ok();
    assert!(first.get("/api/auth/get-session").await.body.is_null());
    assert_eq!(stored(&server, "SessionsRevoked").await.len(), 3);
}
