//! Input the HTTP edge refuses before it reaches the service: NUL characters
//! anywhere (body, query, path), negative log positions, oversized bodies and
//! redirect refusals that would echo a whole attack back. Each is a 4xx with
//! `{code, message}`, never a 500.

use crate::helpers::{Reply, TestServer};
use serde_json::json;

/// A 400 `VALIDATION_ERROR`, with what was sent in the failure message.
fn assert_nul_refused(reply: Reply, what: &str) {
    assert_eq!(
        reply.status.as_u16(),
        400,
        "{what}: expected 400, got {} {}",
        reply.status,
        reply.body
    );
    assert_eq!(
        reply.body["code"], "VALIDATION_ERROR",
        "{what}: {}",
        reply.body
    );
}

#[tokio::test]
async fn a_nul_in_a_json_body_is_a_validation_error() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let visitor = server.client();
    let cases = [
        (
            &visitor,
            "/api/auth/sign-in/email",
            json!({ "email": "a\u{0}@example.com", "password": "password1" }),
        ),
        (
            &visitor,
            "/api/auth/sign-up/email",
            json!({ "email": "n@example.com", "password": "password1", "name": "N\u{0}" }),
        ),
        (
            &admin,
            "/api/auth/admin/set-role",
            json!({ "userId": "\u{0}", "role": "user" }),
        ),
        (
            &visitor,
            "/api/auth/invite/activate",
            json!({ "token": "abc\u{0}def" }),
        ),
        (
            &visitor,
            "/api/auth/invite/get",
            json!({ "token": "\u{0}" }),
        ),
        (
            &admin,
            "/api/auth/invite/cancel",
            json!({ "token": "\u{0}" }),
        ),
    ];
    for (client, path, body) in cases {
        assert_nul_refused(client.post(path, body).await, path);
    }
    // An escaped backslash before `u0000` is text, not a NUL: it passes the rule.
    visitor
        .post_raw(
            "/api/auth/sign-in/email",
            "application/json",
            r#"{"email": "a\\u0000@example.com", "password": "password1"}"#,
        )
        .await
        .err(401, "INVALID_EMAIL_OR_PASSWORD");
}

#[tokio::test]
async fn a_nul_in_a_query_or_path_is_a_validation_error() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let mut paths = vec![
        "/api/auth/invite/get?token=%00".to_string(),
        "/api/auth/invite/ab%00cd".to_string(),
        "/api/ledger/users/%00/invitees".to_string(),
        "/api/ledger/users/%00/inviter-chain".to_string(),
        "/api/ledger/invites/%00".to_string(),
    ];
    for filter in ["status", "role", "inviter", "email"] {
        paths.push(format!("/api/ledger/invites?{filter}=x%00y"));
    }
    for filter in ["user", "inviter"] {
        paths.push(format!("/api/ledger/uses?{filter}=x%00y"));
    }
    for path in paths {
        assert_nul_refused(admin.get(&path).await, &path);
    }
}

#[tokio::test]
async fn a_negative_log_position_is_refused() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    for after in ["-1/-1", "0/-1", "-1/0"] {
        admin
            .get(&format!("/api/ledger/events?after={after}"))
            .await
            .err(400, "INVALID_POSITION");
    }
    admin.get("/api/ledger/events?after=0/0").await.ok();
}

#[tokio::test]
async fn an_oversized_body_is_413_in_the_error_shape() {
    let server = TestServer::start().await;
    let name = "x".repeat(5 * 1024 * 1024);
    let body = json!({ "email": "big@example.com", "password": "password1", "name": name });
    server
        .client()
        .post("/api/auth/sign-up/email", body)
        .await
        .err(413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn a_refused_redirect_echoes_only_the_start_of_its_input() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let target = format!("https://evil.example/{}", "a".repeat(1_000_000));
    let refused = admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "user", "redirectToSignUp": target }),
        )
        .await
        .err(400, "INVALID_REDIRECT");
    let message = refused["message"].as_str().unwrap();
    assert!(message.len() < 200, "{} characters", message.len());
    assert!(message.contains("https://evil.example/"), "{message}");
}
