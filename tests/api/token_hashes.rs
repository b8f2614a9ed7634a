//! Invite tokens are stored under an HMAC keyed with `TOKEN_HASH_KEY`: a copy of
//! the database alone checks no guessed code, and invites stored the old way
//! (under the plain SHA-256 of their token) stay usable.

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{every_row, TestServer, ADMIN_EMAIL};
use invite_ledger::auth::accounts;
use invite_ledger::domain::invite::{InviteCommand, InviteTerms};
use invite_ledger::domain::token::{hash_token, TokenType};
use invite_ledger::domain::token_hash::TokenHasher;
use invite_ledger::ledger::Guard;

const KEY: &str = "5d41402abc4b2a76b9719d911017c592aa4f1e6f0a8e34f7b2c1d0e9f8a7b6c5";

#[tokio::test]
async fn a_database_dump_alone_checks_no_guessed_code() {
    let server = TestServer::start_with(&["--token-hash-key", KEY]).await;
    let admin = server.admin().await;
    let code = admin
        .create_invite(json!({ "role": "user", "tokenType": "code" }))
        .await;
    let rows = every_row(&server).await;

    // What a thief with the dump tries for each guess: its plain SHA-256, or
    // the HMAC under the public development key. The right guess matches
    // neither, so no guess can be told right from wrong.
    let dev = TokenHasher::from_hex(None).unwrap();
    for (what, guess_check) in [
        ("SHA-256", hash_token(&code)),
        ("dev-key HMAC", dev.keyed(&code)),
    ] {
        for (table, row) in &rows {
            assert!(
                !row.contains(&guess_check),
                "{what} of {code} in {table}: {row}"
            );
        }
    }
    // Only with the server's key does the code lead to its invite.
    let keyed = TokenHasher::from_hex(Some(KEY)).unwrap().keyed(&code);
    assert!(rows
        .iter()
        .any(|(table, row)| table == "invite" && row.contains(&keyed)));
    let info = server.client().invite_info(&code).await.ok();
    assert_eq!(info["invitation"]["valid"], true, "{info}");
}

/// Appends an invite's `Created` exactly as before keyed hashes: under the
/// plain SHA-256 of its token. Returns that id.
async fn create_the_old_way(server: &TestServer, token: &str, email: Option<&str>) -> String {
    let app = &server.app;
    let admin = accounts::by_email(&app.pool, ADMIN_EMAIL)
        .await
        .unwrap()
        .unwrap();
    let id = hash_token(token);
    let now = app.clock.now();
    let terms = InviteTerms {
        invite_id: Uuid::new_v4(),
        token_type: TokenType::Code,
        role: "admin".into(),
        email: email.map(str::to_string),
        invitee_id: None,
        invitee_name: None,
        new_account: true,
        max_uses: 1,
        infinity_max_uses: false,
        expires_at: now + Duration::hours(1),
        redirect_to_sign_up: "/auth/sign-up".into(),
        redirect_to_sign_in: "/auth/sign-in".into(),
        redirect_to_after_upgrade: "/auth/invited".into(),
        share_inviter_name: true,
        sender_response_redirect: "signUp".into(),
        sealed_token: email.map(|_| app.settings.token_seal.seal(token, &id)),
        custom_invite_url: None,
    };
    let command = InviteCommand::Create {
        terms,
        inviter: admin.actor(),
        at: now,
    };
    let position = app
        .ledger
        .execute(&id, command, &Guard::default())
        .await
        .unwrap();
    app.settle(position).await;
    id
}

#[tokio::test]
async fn invites_stored_under_the_old_plain_hash_stay_usable() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let used = create_the_old_way(&server, "OLD111", None).await;
    create_the_old_way(&server, "OLD222", None).await;
    create_the_old_way(&server, "OLD333", Some("carol@example.com")).await;

    // Read, activated, used: the role is given and the use recorded on the old invite.
    let info = server.client().invite_info("OLD111").await.ok();
    assert_eq!(info["invitation"]["role"], "admin", "{info}");
    assert_eq!(info["invitation"]["valid"], true, "{info}");
    let visitor = server.client();
    visitor.activate("OLD111").await.ok();
    let signed_up = visitor
        .sign_up("dave@example.com", "password1", "Dave")
        .await
        .ok();
    assert_eq!(signed_up["invite"]["used"], true, "{signed_up}");
    assert_eq!(visitor.role().await, "admin");
    let uses: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'Used'",
    )
    .bind(&used)
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!(uses, 1, "the use is recorded on the old invite");
    let info = server.client().invite_info("OLD111").await.ok();
    assert_eq!(info["invitation"]["status"], "used_up", "{info}");

    // Cancelled by its creator.
    admin.cancel("OLD222").await.ok();
    let info = server.client().invite_info("OLD222").await.ok();
    assert_eq!(info["invitation"]["status"], "cancelled", "{info}");

    // A private one's email opens its sealed token, also when resent.
    server.mailer.wait_for("carol@example.com", 1).await;
    admin
        .post("/api/auth/invite/resend", json!({ "token": "OLD333" }))
        .await
        .ok();
    let emails = server.mailer.wait_for("carol@example.com", 2).await;
    assert!(emails.iter().all(|e| e.token == "OLD333"));

    // A token that was never an invite is still unknown.
    server
        .client()
        .invite_info("NEW999")
        .await
        .err(400, "INVALID_TOKEN");
}
