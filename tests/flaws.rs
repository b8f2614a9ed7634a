//! The original plugin's flaws, each impossible here: open redirects, an
//! `invite.get` that leaks the inviter or hides an invite's state, and tokens
//! stored in plain text.

mod common;

use chrono::Duration;
use common::TestServer;
use invite_ledger::domain::token::hash_token;
use serde_json::json;

/// Targets that would send a user to another site, or run script.
const FOREIGN: &[&str] = &[
    "https://evil.example",
    "https://evil.example/auth/sign-up",
    "//evil.example",
    "//evil.example/auth/sign-up",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    " //evil.example",
    "\t/evil.example",
    "https:evil.example",
    "http://localhost:3000.evil.example/",
    "http://localhost:3000@evil.example/",
    "https://localhost:3000/",
    "http://localhost:3001/",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "",
];

#[tokio::test]
async fn every_redirect_field_refuses_other_origins() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "user", "maxUses": 5 }))
        .await;
    let visitor = server.client();
    let events_before = server.events(None).await;

    for target in FOREIGN {
        for field in [
            "redirectToSignUp",
            "redirectToSignIn",
            "redirectToAfterUpgrade",
        ] {
            let mut body = json!({ "role": "user" });
            body[field] = json!(target);
            admin
                .post("/api/auth/invite/create", body)
                .await
                .err(400, "INVALID_REDIRECT");
        }
        for field in ["callbackURL", "redirectTo"] {
            visitor
                .post(
                    "/api/auth/invite/activate",
                    json!({ "token": token, field: target }),
                )
                .await
                .err(400, "INVALID_REDIRECT");
        }
        let query: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        let link = visitor
            .get(&format!("/api/auth/invite/{token}?callbackURL={query}"))
            .await;
        assert!(link.headers.get("location").is_none(), "{target}");
        link.err(400, "INVALID_REDIRECT");

        visitor
            .post(
                "/api/auth/sign-up/email",
                json!({ "email": "v@example.com", "password": "password1",
                        "name": "V", "callbackURL": target }),
            )
            .await
            .err(400, "INVALID_REDIRECT");
        admin
            .post(
                "/api/auth/sign-in/email",
                json!({ "email": common::ADMIN_EMAIL, "password": common::ADMIN_PASSWORD,
                        "callbackURL": target }),
            )
            .await
            .err(400, "INVALID_REDIRECT");
    }
    assert_eq!(
        server.events(None).await,
        events_before,
        "refusals write nothing to the ledger"
    );
    assert!(visitor.get("/api/auth/get-session").await.body.is_null());
}

#[tokio::test]
async fn relative_paths_and_trusted_origins_pass() {
    let server = TestServer::start_with(&["--trusted-origins", "https://app.example.com"]).await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({
            "role": "user",
            "maxUses": 3,
            "redirectToSignUp": "/join?from=invite",
            "redirectToSignIn": "http://localhost:3000/login",
            "redirectToAfterUpgrade": "https://app.example.com/welcome",
        }))
        .await;

    let visitor = server.client();
    let activated = visitor.activate(&token).await.ok();
    assert_eq!(activated["redirectTo"], "/join?from=invite");
    let activated = visitor
        .post(
            "/api/auth/invite/activate",
            json!({ "token": token, "callbackURL": "https://app.example.com/start" }),
        )
        .await
        .ok();
    assert_eq!(activated["redirectTo"], "https://app.example.com/start");
    let link = visitor
        .get(&format!(
            "/api/auth/invite/{token}?callbackURL=%2Fcustom%2Fpage"
        ))
        .await;
    assert_eq!(link.location(), "/custom/page");

    let signed_up = visitor
        .post(
            "/api/auth/sign-up/email",
            json!({ "email": "v@example.com", "password": "password1", "name": "V",
                    "callbackURL": "/dashboard" }),
        )
        .await
        .ok();
    assert_eq!(signed_up["redirect"], true);
    assert_eq!(signed_up["url"], "https://app.example.com/welcome");
}

#[tokio::test]
async fn invite_get_hides_an_unshared_inviter_and_tells_every_state() {
    let server = TestServer::start().await;
    server.user_with_role("dave@example.com", "user").await;
    let admin = server.admin().await;
    let hidden = json!({ "role": "user", "shareInviterName": false, "expiresIn": 600 });
    let to_expire = admin.create_invite(hidden.clone()).await;
    let to_use = admin.create_invite(hidden.clone()).await;
    let to_cancel = admin.create_invite(hidden.clone()).await;
    let mut private = hidden.clone();
    private["email"] = json!("dave@example.com");
    admin.post("/api/auth/invite/create", private).await.ok();
    let to_reject = server.mailer.last_to("dave@example.com").token;
    assert_eq!(server.mailer.last_to("dave@example.com").inviter_name, None);

    let visitor = server.client();
    visitor.activate(&to_use).await.ok();
    visitor
        .sign_up("v@example.com", "password1", "V")
        .await
        .ok();
    admin
        .post("/api/auth/invite/cancel", json!({ "token": to_cancel }))
        .await
        .ok();
    let dave = server.client();
    dave.sign_in("dave@example.com", "password1").await.ok();
    dave.post("/api/auth/invite/reject", json!({ "token": to_reject }))
        .await
        .ok();

    // Untouched by anyone: the clock alone makes it expired.
    server.clock.advance(Duration::seconds(601));
    let expected = [
        (&to_expire, "expired"),
        (&to_use, "used_up"),
        (&to_cancel, "cancelled"),
        (&to_reject, "rejected"),
    ];
    for viewer in [&visitor, &dave, &server.client()] {
        for (token, status) in expected {
            let info = viewer.invite_info(token).await.ok();
            assert_eq!(info["invitation"]["status"], status, "{info}");
            assert_eq!(info["invitation"]["valid"], false, "{info}");
            assert!(info["inviter"]["name"].is_null(), "{info}");
            assert!(info["inviter"]["email"].is_null(), "{info}");
            let text = info.to_string();
            assert!(
                !text.contains("Ada") && !text.contains(common::ADMIN_EMAIL),
                "{text}"
            );
        }
    }
}

/// Every row of every table in the database, as text.
async fn every_row(server: &TestServer) -> Vec<(String, String)> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text FROM information_schema.tables
          WHERE table_type = 'BASE TABLE'
            AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(server.pool())
    .await
    .unwrap();
    let mut rows = Vec::new();
    for (schema, table) in tables {
        let sql = format!("SELECT t::text FROM \"{schema}\".\"{table}\" t");
        for row in sqlx::query_scalar::<_, String>(&sql)
            .fetch_all(server.pool())
            .await
            .unwrap()
        {
            rows.push((table.clone(), row));
        }
    }
    rows
}

#[tokio::test]
async fn no_token_is_stored_in_plain_text() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let mut secrets = vec![
        admin.create_invite(json!({ "role": "user" })).await,
        admin
            .create_invite(json!({ "role": "user", "tokenType": "code" }))
            .await,
        admin
            .create_invite(json!({ "role": "user", "tokenType": "custom" }))
            .await,
    ];
    let url = admin
        .create_invite(json!({ "role": "user", "senderResponse": "url" }))
        .await;
    secrets.push(
        url.rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_string(),
    );
    admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "admin", "email": "bob@example.com" }),
        )
        .await
        .ok();
    secrets.push(server.mailer.last_to("bob@example.com").token);

    // Use each invite, so the tokens pass through every command and projection.
    for (i, token) in secrets.clone().iter().enumerate() {
        let visitor = server.client();
        visitor.activate(token).await.ok();
        let email = if i == 4 {
            "bob@example.com".to_string()
        } else {
            format!("visitor{i}@example.com")
        };
        let signed_up = visitor.sign_up(&email, "password1", "V").await.ok();
        assert_eq!(signed_up["invite"]["used"], true, "{signed_up}");
        secrets.push(signed_up["token"].as_str().unwrap().to_string());
    }
    let admin_session = admin.session().await["session"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.push(admin_session);

    let rows = every_row(&server).await;
    let tables: std::collections::BTreeSet<_> = rows.iter().map(|(t, _)| t.as_str()).collect();
    for table in ["events", "invite", "invite_use", "user_account", "session"] {
        assert!(tables.contains(table), "{table} was scanned: {tables:?}");
    }
    for secret in &secrets {
        for (table, row) in &rows {
            assert!(!row.contains(secret.as_str()), "{secret} in {table}: {row}");
        }
        // The scan sees what is stored: each token's hash is there instead.
        assert!(
            rows.iter()
                .any(|(_, row)| row.contains(&hash_token(secret))),
            "the hash of {secret} is stored"
        );
    }
}
