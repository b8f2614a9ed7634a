//! The original plugin's flaws, each impossible here: open redirects, an
//! `invite.get` that leaks the inviter or hides an invite's state, and tokens
//! stored in plain text.

use crate::helpers::TestServer;
use chrono::Duration;
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
                .err(403, "INVALID_CALLBACK_URL");
        }
        let query: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        let link = visitor
            .get(&format!("/api/auth/invite/{token}?callbackURL={query}"))
            .await;
        assert!(link.headers.get("location").is_none(), "{target}");
        link.err(403, "INVALID_CALLBACK_URL");

        visitor
            .post(
                "/api/auth/sign-up/email",
                json!({ "email": "v@example.com", "password": "password1",
                        "name": "V", "callbackURL": target }),
            )
            .await
            .err(403, "INVALID_CALLBACK_URL");
        admin
            .post(
                "/api/auth/sign-in/email",
                json!({ "email": crate::helpers::ADMIN_EMAIL, "password": crate::helpers::ADMIN_PASSWORD,
                        "callbackURL": target }),
            )
            .await
            .err(403, "INVALID_CALLBACK_URL");
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
    let to_reject = server.mailer.last_to("dave@example.com").await.token;
    assert_eq!(
        server.mailer.last_to("dave@example.com").await.inviter_name,
        None
    );

    let visitor = server.client();
    visitor.activate(&to_use).await.ok();
    visitor
        .sign_up("v@example.com", "password1", "V")
        .await
        .ok();
    admin.cancel(&to_cancel).await.ok();
    let dave = server.client();
    dave.sign_in("dave@example.com", "password1").await.ok();
    dave.reject(&to_reject).await.ok();

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
                !text.contains("Ada") && !text.contains(crate::helpers::ADMIN_EMAIL),
                "{text}"
            );
        }
    }
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
    secrets.push(server.mailer.last_to("bob@example.com").await.token);

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

    let rows = crate::helpers::every_row(&server).await;
    let tables: std::collections::BTreeSet<_> = rows.iter().map(|(t, _)| t.as_str()).collect();
    for table in ["events", "invite", "invite_use", "user_account", "session"] {
        assert!(tables.contains(table), "{table} was scanned: {tables:?}");
    }
    for secret in &secrets {
        for (table, row) in &rows {
            assert!(!row.contains(secret.as_str()), "{secret} in {table}: {row}");
        }
        // The scan sees what is stored: each token's hash is there instead
        // (a session's plain, an invite's keyed).
        assert!(
            rows.iter().any(|(_, row)| row.contains(&hash_token(secret))
                || row.contains(&crate::helpers::invite_hash(secret))),
            "the hash of {secret} is stored"
        );
    }
}

#[tokio::test]
async fn every_role_change_is_a_recorded_use_or_an_admins_role_set() {
    let server = TestServer::start_with(&["--roles", "user,member,admin"]).await;
    let admin = server.admin().await;

    // Roles change by sign-up, sign-in, a signed-in POST and an admin's set-role.
    let token = admin
        .create_invite(json!({ "role": "member", "maxUses": 3 }))
        .await;
    let newcomer = server.client();
    newcomer.activate(&token).await.ok();
    newcomer
        .sign_up("new@example.com", "password1", "New")
        .await
        .ok();
    let returning = server.user_with_role("back@example.com", "user").await;
    returning.sign_out().await.ok();
    returning.activate(&token).await.ok();
    returning
        .sign_in("back@example.com", "password1")
        .await
        .ok();
    let present = server.user_with_role("here@example.com", "user").await;
    present.activate(&token).await.ok();
    server.user_with_role("set@example.com", "admin").await;

    // Replaying the ledger's role events by hand gives every account's role.
    let events: Vec<(String, String, serde_json::Value)> = sqlx::query_as(
        "SELECT aggregate_id, event_type, payload::jsonb FROM events
          WHERE event_type IN ('Registered', 'RoleSet', 'Used')
          ORDER BY transaction_id, global_position",
    )
    .fetch_all(server.pool().await)
    .await
    .unwrap();
    let mut roles = std::collections::BTreeMap::new();
    for (aggregate_id, event_type, payload) in &events {
        let (user, role) = match event_type.as_str() {
            "Registered" => (aggregate_id.clone(), &payload["Registered"]["role"]),
            "RoleSet" => (aggregate_id.clone(), &payload["RoleSet"]["role"]),
            _ => (
                payload["Used"]["user_id"].as_str().unwrap().to_string(),
                &payload["Used"]["role_after"],
            ),
        };
        roles.insert(user, role.as_str().unwrap().to_string());
    }
    let accounts: std::collections::BTreeMap<String, String> =
        sqlx::query_as("SELECT id, role FROM user_account")
            .fetch_all(server.pool().await)
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(accounts, roles);
    for email in ["new@example.com", "back@example.com", "here@example.com"] {
        let (role, uses): (String, i64) = sqlx::query_as(
            "SELECT a.role, (SELECT count(*) FROM invite_use u WHERE u.user_id = a.id)
               FROM user_account a WHERE a.email = $1",
        )
        .bind(email)
        .fetch_one(server.pool().await)
        .await
        .unwrap();
        assert_eq!((role.as_str(), uses), ("member", 1), "{email}");
    }
    assert_eq!(server.events(Some("Used")).await, 3);
    assert_eq!(server.events(Some("RoleSet")).await, 1);
}

#[tokio::test]
async fn guessing_tokens_is_rate_limited() {
    let server = TestServer::start_with(&["--activation-attempts-per-minute", "5"]).await;
    let admin = server.admin().await;
    let code = admin
        .create_invite(json!({ "role": "user", "tokenType": "code" }))
        .await;
    // A signed-in guesser, since cancel and reject would tell a token exists.
    let guesser = server.user_with_role("guesser@example.com", "user").await;
    guesser.activate("AAAAAA").await.err(400, "INVALID_TOKEN");
    guesser
        .invite_info("AAAAAB")
        .await
        .err(400, "INVALID_TOKEN");
    for (path, guess) in [
        ("cancel", "AAAAAC"),
        ("reject", "AAAAAD"),
        ("cancel", "AAAAAE"),
    ] {
        guesser
            .post(
                &format!("/api/auth/invite/{path}"),
                json!({ "token": guess }),
            )
            .await
            .err(400, "INVALID_TOKEN");
    }
    // Blocked now, even for the right code, on every route that looks tokens up.
    guesser.activate(&code).await.err(429, "TOO_MANY_REQUESTS");
    guesser
        .invite_info(&code)
        .await
        .err(429, "TOO_MANY_REQUESTS");
    for path in ["cancel", "reject"] {
        guesser
            .post(
                &format!("/api/auth/invite/{path}"),
                json!({ "token": code }),
            )
            .await
            .err(429, "TOO_MANY_REQUESTS");
    }
    let link = guesser.get(&format!("/api/auth/invite/{code}")).await;
    assert_eq!(
        link.location(),
        "/auth/sign-up?error=TOO_MANY_REQUESTS&message=Too+many+attempts%3B+try+again+later"
    );
    assert_eq!(server.events(Some("Activated")).await, 0);
}
