//! The admin console end to end, in headless Chromium: `tests/console/console.mjs`
//! (Playwright's `playwright-core` driving Debian's `/usr/bin/chromium`) against a
//! real server on a loopback port, seeded here through the HTTP API. It signs in
//! through the sign-in form, filters the invite list, opens an invite's timeline,
//! moves the time slider to a moment before part of the tree existed and sees the
//! tree lose those people, signs in with an API key, reads people's account
//! histories (a password reset, an email verified, a ban and its lifting), and
//! takes a screenshot. Every view is read as an auditor reads it: sentences
//! with names, times in the browser's own time zone.
//!
//! The screenshot goes to `target/console-screenshot.png`, or to
//! `$CONSOLE_SCREENSHOT` (`src/console/screenshot.png` refreshes the README's).

use std::path::Path;
use std::time::Duration as StdDuration;

use crate::helpers::ledger::user_id;
use crate::helpers::{Client, TestServer, ADMIN_EMAIL, ADMIN_PASSWORD};
use chrono::{DateTime, Duration, Utc};
use invite_ledger::auth::api_keys;
use serde_json::json;

/// The whole browser run's limit: a hang fails instead of holding up the suite.
const BROWSER_LIMIT: StdDuration = StdDuration::from_secs(180);
const CHROMIUM: &str = "/usr/bin/chromium";

/// A visitor takes `token` and signs up as `name`; the new account's client.
async fn joins(server: &TestServer, token: &str, name: &str) -> Client {
    let client = server.client();
    client.activate(token).await.ok();
    let email = format!("{}@example.com", name.to_lowercase());
    let reply = client.sign_up(&email, "password1", name).await.ok();
    assert_eq!(reply["invite"]["used"], true, "{reply}");
    client
}

/// The holder of `email` asks for a reset link and sets a new password with it.
async fn resets_password(server: &TestServer, email: &str) {
    let visitor = server.client();
    let sent = server.mailer.0.lock().unwrap().len();
    visitor
        .post(
            "/api/auth/request-password-reset",
            json!({ "email": email, "redirectTo": "/reset" }),
        )
        .await
        .ok();
    let token = emailed_after(server, email, sent).await;
    visitor
        .post(
            "/api/auth/reset-password",
            json!({ "token": token, "newPassword": "new-password1" }),
        )
        .await
        .ok();
}

/// A verification link is sent to `email`, and opened.
async fn verifies_email(server: &TestServer, email: &str) {
    let visitor = server.client();
    let sent = server.mailer.0.lock().unwrap().len();
    visitor
        .post(
            "/api/auth/send-verification-email",
            json!({ "email": email }),
        )
        .await
        .ok();
    let token = emailed_after(server, email, sent).await;
    visitor
        .get(&format!("/api/auth/verify-email?token={token}"))
        .await
        .ok();
}

/// The token of the first email to `to` among those sent after the first `sent`.
async fn emailed_after(server: &TestServer, to: &str, sent: usize) -> String {
    let earlier = server.mailer.0.lock().unwrap()[..sent]
        .iter()
        .filter(|m| m.to == to)
        .count();
    let emails = server.mailer.wait_for(to, earlier + 1).await;
    emails[earlier].token.clone()
}

/// The latest time the ledger recorded anything, by the database's clock.
async fn last_recorded(server: &TestServer) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT max(recorded_at) FROM events")
        .fetch_one(server.pool().await)
        .await
        .unwrap()
}

/// Waits until the database's clock has passed `moment`, so that whatever is
/// recorded next is recorded after it.
async fn database_clock_passes(server: &TestServer, moment: DateTime<Utc>) {
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(5);
    loop {
        let now: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
        if now > moment {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the database clock stands still"
        );
        tokio::time::sleep(StdDuration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_headless_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "the console test needs Debian's chromium at {CHROMIUM} (.ci/run installs it)"
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console");
    crate::helpers::node::install_packages(&dir);

    // Roles where the middle one may invite (the default role may not).
    let server = TestServer::start_with(&["--roles", "user,staff,admin"]).await;
    let admin = server.admin().await;
    let admin_id = user_id(&admin).await;

    // Day one: Alice and Erin join from the admin's invites; one invite is never used.
    let token = server
        .private_invite(&admin, "staff", "alice@example.com")
        .await;
    let alice = joins(&server, &token, "Alice").await;
    let token = server
        .private_invite(&admin, "user", "erin@example.com")
        .await;
    joins(&server, &token, "Erin").await;
    server
        .private_invite(&admin, "user", "gone@example.com")
        .await;
    // The moment the slider is moved to: Alice is in the tree, Bob not yet.
    let cut = last_recorded(&server).await + Duration::milliseconds(1);
    database_clock_passes(&server, cut).await;

    // Day two (the domain clock moves; the unused invite has run out): Alice
    // brings in Bob and Dave, Bob brings in Frank; a public invite stays open and
    // one to Carol is cancelled.
    server.clock.advance(Duration::days(1));
    let token = alice.create_invite(json!({ "role": "staff" })).await;
    let bob = joins(&server, &token, "Bob").await;
    let bob_id = user_id(&bob).await;
    let token = alice.create_invite(json!({ "role": "user" })).await;
    let dave_id = user_id(&joins(&server, &token, "Dave").await).await;
    let token = bob.create_invite(json!({ "role": "user" })).await;
    let frank_id = user_id(&joins(&server, &token, "Frank").await).await;
    admin.create_invite(json!({ "role": "user" })).await;
    let token = server
        .private_invite(&admin, "user", "carol@example.com")
        .await;
    admin.cancel(&token).await.ok();

    // Changes to people: Dave resets his password and verifies his address; the
    // admin bans Frank and lifts the ban.
    resets_password(&server, "dave@example.com").await;
    verifies_email(&server, "dave@example.com").await;
    admin
        .post(
            "/api/auth/admin/ban-user",
            json!({ "userId": frank_id, "banReason": "spam" }),
        )
        .await
        .ok();
    admin
        .post("/api/auth/admin/unban-user", json!({ "userId": frank_id }))
        .await
        .ok();

    let alice_invite = admin
        .get("/api/ledger/invites?email=alice@example.com")
        .await
        .ok()["invites"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let key = api_keys::create(server.pool().await, "console test")
        .await
        .unwrap()
        .key;
    let screenshot = std::env::var("CONSOLE_SCREENSHOT").unwrap_or_else(|_| {
        format!(
            "{}/console-screenshot.png",
            option_env!("CARGO_TARGET_TMPDIR").unwrap_or(env!("CARGO_MANIFEST_DIR"))
        )
    });

    let mut node = tokio::process::Command::new("node");
    node.args(["--test", "--test-timeout=150000", "console.mjs"])
        .current_dir(&dir)
        .env("CONSOLE_URL", format!("http://{}/console/", server.addr))
        .env("ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ADMIN_ID", &admin_id)
        .env("ALICE_INVITE_ID", &alice_invite)
        .env("BOB_ID", &bob_id)
        .env("DAVE_ID", &dave_id)
        .env("FRANK_ID", &frank_id)
        .env(
            "CUT",
            cut.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
        .env("API_KEY", &key)
        .env("CHROMIUM", CHROMIUM)
        .env("SCREENSHOT", &screenshot)
        .kill_on_drop(true);
    let output = tokio::time::timeout(BROWSER_LIMIT, node.output())
        .await
        .expect("the browser run ends within its limit")
        .expect("node runs (Node.js 20+ needed)");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{report}");
    assert!(
        output.status.success(),
        "the console failed in Chromium:\n{report}"
    );
    assert!(
        Path::new(&screenshot).exists(),
        "a screenshot at {screenshot}"
    );
}
