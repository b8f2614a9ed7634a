//! Cross-site request forgery: a cookie-authenticated write from an origin
//! that is not trusted is refused (403 `INVALID_ORIGIN`), as Better Auth's
//! origin check does; the server's own origin, `TRUSTED_ORIGINS`, bearer
//! tokens and reads are unaffected.

use crate::helpers::{Client, Reply, TestServer};
use serde_json::json;

const EVIL: &str = "http://evil.example";

/// A POST of `body` to `path` with these extra headers, through `client`'s cookies.
async fn post_from(client: &Client, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut request = client
        .http
        .post(format!("{}{path}", client.base))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Client::reply(request.send().await.unwrap()).await
}

async fn server() -> TestServer {
    TestServer::start_with(&["--trusted-origins", "https://app.example.com"]).await
}

#[tokio::test]
async fn cookie_writes_from_an_untrusted_origin_are_refused() {
    let server = server().await;
    let admin = server.admin().await;
    let user = server.user_with_role("u@example.com", "user").await;
    let user_id = user.user_id().await;
    let create = r#"{"role":"user"}"#;
    let set_role = json!({ "userId": user_id, "role": "admin" }).to_string();
    for (path, body) in [
        ("/api/auth/invite/create", create),
        ("/api/auth/admin/set-role", set_role.as_str()),
        ("/api/auth/sign-out", "{}"),
    ] {
        for headers in [
            vec![("origin", EVIL)],
            vec![("origin", "null")],
            // Another port on this machine is another origin.
            vec![("origin", "http://127.0.0.1:4000")],
            vec![("referer", "http://evil.example/page")],
            // A trusted referer does not excuse an untrusted origin.
            vec![("origin", EVIL), ("referer", "http://localhost:3000/")],
        ] {
            post_from(&admin, path, &headers, body)
                .await
                .err(403, "INVALID_ORIGIN");
        }
    }
    // Nothing happened: the user is still a user, and the admin still signed in.
    assert_eq!(user.role().await, "user");
    assert_eq!(admin.role().await, "admin");
    assert_eq!(server.events(Some("Created")).await, 0);
}

#[tokio::test]
async fn a_form_encoded_cross_site_sign_out_is_refused() {
    let server = server().await;
    let admin = server.admin().await;
    let response = admin
        .http
        .post(format!("{}/api/auth/sign-out", admin.base))
        .header("origin", EVIL)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(admin.role().await, "admin", "still signed in");
}

#[tokio::test]
async fn trusted_origins_bearer_tokens_and_reads_pass() {
    let server = server().await;
    let admin = server.admin().await;
    // BASE_URL is http://localhost:3000: its loopback aliases are the same machine.
    for origin in [
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://[::1]:3000",
        "https://app.example.com",
    ] {
        post_from(
            &admin,
            "/api/auth/invite/create",
            &[("origin", origin)],
            r#"{"role":"user"}"#,
        )
        .await
        .ok();
    }
    post_from(
        &admin,
        "/api/auth/invite/create",
        &[("referer", "https://app.example.com/invites")],
        r#"{"role":"user"}"#,
    )
    .await
    .ok();
    // No origin at all: scripts and servers.
    admin.create_invite(json!({ "role": "user" })).await;

    let script = server.bearer_client(&server.admin_token().await);
    post_from(
        &script,
        "/api/auth/invite/create",
        &[("origin", EVIL)],
        r#"{"role":"user"}"#,
    )
    .await
    .ok();

    // Reads change nothing, so any origin may make them (CORS still hides the answer).
    let session = admin
        .http
        .get(format!("{}/api/auth/get-session", admin.base))
        .header("origin", EVIL)
        .send()
        .await
        .unwrap();
    assert_eq!(session.status().as_u16(), 200);

    // Without a cookie there is nobody to act for: sign-in from anywhere is
    // Better Auth's own business (the visitor's browser holds no cookie yet).
    let visitor = server.client();
    post_from(
        &visitor,
        "/api/auth/sign-in/email",
        &[("origin", EVIL)],
        &json!({ "email": crate::helpers::ADMIN_EMAIL, "password": crate::helpers::ADMIN_PASSWORD }).to_string(),
    )
    .await
    .ok();
}

#[tokio::test]
async fn an_invite_cookie_counts_as_a_credential() {
    let server = server().await;
    let admin = server.admin().await;
    let token = admin.create_invite(json!({ "role": "user" })).await;
    let visitor = server.client();
    visitor.activate(&token).await.ok();
    // A cross-site page must not sign the visitor up with their invite.
    post_from(
        &visitor,
        "/api/auth/sign-up/email",
        &[("origin", EVIL)],
        &json!({ "email": "v@example.com", "password": "password1", "name": "V" }).to_string(),
    )
    .await
    .err(403, "INVALID_ORIGIN");
}
