//! An invite's life over HTTP: expiry on the injected clock, email binding,
//! cancel and reject, and failed invites that never block a sign-in or sign-up.

use crate::helpers::{Client, TestServer};
use chrono::Duration;
use serde_json::{json, Value};

const INVITE_COOKIE: &str = "better-auth.invite-token";

/// A user who signed up and signed out again: their browser has no session.
async fn signed_out_user(server: &TestServer, email: &str) -> Client {
    let client = server.client();
    client.sign_up(email, "password1", "Some One").await.ok();
    client.sign_out().await.ok();
    client
}

/// Asserts a sign-in or sign-up that succeeded although its invite was refused.
fn assert_signed_in_despite(reply: crate::helpers::Reply, code: &str) -> Value {
    assert!(
        reply.clears_cookie(INVITE_COOKIE),
        "the invite cookie is cleared: {:?}",
        reply.set_cookies()
    );
    assert!(reply.cookie("better-auth.session_token").is_some());
    let body = reply.ok();
    assert_eq!(body["invite"]["used"], false, "{body}");
    assert_eq!(body["invite"]["code"], code, "{body}");
    assert!(
        body["invite"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "the reason is reported: {body}"
    );
    assert_eq!(body["redirect"], false, "{body}");
    assert_eq!(body["user"]["role"], "user", "{body}");
    body
}

#[tokio::test]
async fn an_invite_expires_when_the_clock_passes_its_time() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "admin", "expiresIn": 60 }))
        .await;
    let visitor = server.client();

    server.clock.advance(Duration::seconds(59));
    let info = visitor.invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["status"], "pending");
    assert_eq!(info["invitation"]["valid"], true);

    server.clock.advance(Duration::seconds(1));
    let info = visitor.invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["status"], "expired");
    assert_eq!(info["invitation"]["valid"], false);

    visitor.activate(&token).await.refused_because(
        400,
        "INVALID_OR_EXPIRED_INVITE",
        "INVITE_EXPIRED",
    );
    assert!(visitor.get("/api/auth/get-session").await.body.is_null());
    let carol = server.user_with_role("carol@example.com", "user").await;
    carol.activate(&token).await.refused_because(
        400,
        "INVALID_OR_EXPIRED_INVITE",
        "INVITE_EXPIRED",
    );
    assert_eq!(carol.role().await, "user");

    let link = visitor.get(&format!("/api/auth/invite/{token}")).await;
    assert_eq!(link.status, 303);
    // The plugin's code and message, and ours as `reason`.
    assert_eq!(
        link.location(),
        "/auth/sign-up?error=INVALID_OR_EXPIRED_INVITE&message=The+invite+has+expired\
         &reason=INVITE_EXPIRED"
    );
    assert!(link.cookie(INVITE_COOKIE).is_none());

    assert_eq!(
        server.events(Some("Expired")).await,
        1,
        "touching an expired invite records its expiry once"
    );
    let status: String = sqlx::query_scalar("SELECT status FROM invite")
        .fetch_one(server.pool().await)
        .await
        .unwrap();
    assert_eq!(status, "expired");
    assert_eq!(server.events(Some("Used")).await, 0);
}

#[tokio::test]
async fn an_invite_that_expires_after_activation_never_blocks_sign_up_or_sign_in() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let for_visitor = admin
        .create_invite(json!({ "role": "admin", "expiresIn": 60 }))
        .await;
    let for_member = admin
        .create_invite(json!({ "role": "admin", "expiresIn": 60 }))
        .await;
    let visitor = server.client();
    visitor.activate(&for_visitor).await.ok();
    let dave = signed_out_user(&server, "dave@example.com").await;
    dave.activate(&for_member).await.ok();

    server.clock.advance(Duration::hours(2));
    let signed_up = visitor
        .sign_up("late@example.com", "password1", "Late")
        .await;
    assert_signed_in_despite(signed_up, "INVITE_EXPIRED");
    assert_eq!(visitor.role().await, "user");

    let signed_in = dave.sign_in("dave@example.com", "password1").await;
    assert_signed_in_despite(signed_in, "INVITE_EXPIRED");
    assert_eq!(dave.role().await, "user");
    assert_eq!(server.events(Some("Used")).await, 0);
}

#[tokio::test]
async fn used_up_and_cancelled_invites_never_block_sign_up_or_sign_in() {
    let server = TestServer::start().await;
    let admin = server.admin().await;

    // Two visitors hold the same one-use invite; the second finds it used up.
    let one_seat = admin.create_invite(json!({ "role": "admin" })).await;
    let first = server.client();
    let second = server.client();
    first.activate(&one_seat).await.ok();
    second.activate(&one_seat).await.ok();
    first
        .sign_up("first@example.com", "password1", "First")
        .await
        .ok();
    let late = second
        .sign_up("second@example.com", "password1", "Second")
        .await;
    assert_signed_in_despite(late, "INVITE_USED_UP");

    // An invite cancelled after activation, for a visitor and for an account.
    let cancelled = admin
        .create_invite(json!({ "role": "admin", "maxUses": 5 }))
        .await;
    let visitor = server.client();
    visitor.activate(&cancelled).await.ok();
    let erin = signed_out_user(&server, "erin@example.com").await;
    erin.activate(&cancelled).await.ok();
    admin.cancel(&cancelled).await.ok();
    let signed_up = visitor
        .sign_up("third@example.com", "password1", "Third")
        .await;
    assert_signed_in_despite(signed_up, "INVITE_CANCELLED");
    let signed_in = erin.sign_in("erin@example.com", "password1").await;
    assert_signed_in_despite(signed_in, "INVITE_CANCELLED");
    assert_eq!(erin.role().await, "user");

    assert_eq!(server.events(Some("Used")).await, 1, "only the first use");
}

#[tokio::test]
async fn a_private_invite_matches_its_email_whatever_the_case() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = server.private_invite(&admin, "admin", "bob@x.com").await;
    let bob = server.client();
    bob.activate(&token).await.ok();
    let signed_up = bob.sign_up("Bob@X.com", "password1", "Bob").await.ok();
    assert_eq!(signed_up["invite"]["used"], true, "{signed_up}");
    assert_eq!(bob.role().await, "admin");

    // An existing account, invited by its address in capitals, confirming with a POST.
    let carol = server.user_with_role("carol@example.com", "user").await;
    let token = server
        .private_invite(&admin, "admin", "CAROL@Example.COM")
        .await;
    let used = carol.activate(&token).await.ok();
    assert_eq!(used["action"], "REDIRECT_TO_AFTER_UPGRADE");
    assert_eq!(carol.role().await, "admin");
}

#[tokio::test]
async fn a_private_invite_is_refused_to_another_email_without_blocking_sign_in() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = server.private_invite(&admin, "admin", "bob@x.com").await;

    // Eve got hold of Bob's link: activating as a visitor works, using it does not.
    let eve = signed_out_user(&server, "eve@x.com").await;
    eve.activate(&token).await.ok();
    let signed_in = eve.sign_in("eve@x.com", "password1").await;
    assert_signed_in_despite(signed_in, "INVITE_EMAIL_MISMATCH");
    eve.activate(&token)
        .await
        .refused_because(400, "INVALID_EMAIL", "INVITE_EMAIL_MISMATCH");
    assert_eq!(eve.role().await, "user");

    let mallory = server.client();
    mallory.activate(&token).await.ok();
    let signed_up = mallory
        .sign_up("bob@x.com.evil.example", "password1", "Not Bob")
        .await;
    assert_signed_in_despite(signed_up, "INVITE_EMAIL_MISMATCH");

    // The refusals consumed nothing: Bob still gets his role.
    let info = server.client().invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["status"], "pending");
    let bob = server.client();
    bob.activate(&token).await.ok();
    let signed_up = bob.sign_up("bob@x.com", "password1", "Bob").await.ok();
    assert_eq!(signed_up["user"]["role"], "admin");
}

#[tokio::test]
async fn only_the_creator_cancels_and_a_cancelled_invite_is_never_used() {
    let server = TestServer::start_with(&["--roles", "user,member,admin"]).await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "member", "maxUses": 3 }))
        .await;
    let other_admin = server.user_with_role("admin2@example.com", "admin").await;
    let member = server.user_with_role("member@example.com", "member").await;

    server
        .client()
        .cancel(&token)
        .await
        .err(401, "UNAUTHORIZED");
    for other in [&other_admin, &member] {
        other.cancel(&token).await.refused_because(
            400,
            "INSUFFICIENT_PERMISSIONS",
            "NOT_INVITE_CREATOR",
        );
    }
    assert_eq!(server.events(Some("Cancelled")).await, 0);

    let cancelled = admin.cancel(&token).await.ok();
    assert_eq!(cancelled["status"], true);
    let info = server.client().invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["status"], "cancelled");
    assert_eq!(info["invitation"]["valid"], false);

    server.client().activate(&token).await.refused_because(
        400,
        "INVALID_TOKEN",
        "INVITE_CANCELLED",
    );
    let user = server.user_with_role("user@example.com", "user").await;
    user.activate(&token)
        .await
        .refused_because(400, "INVALID_TOKEN", "INVITE_CANCELLED");
    assert_eq!(user.role().await, "user");
    admin
        .cancel(&token)
        .await
        .refused_because(400, "INVALID_TOKEN", "INVITE_CANCELLED");
    assert_eq!(server.events(Some("Cancelled")).await, 1);
    assert_eq!(server.events(Some("Used")).await, 0);
}

#[tokio::test]
async fn only_the_invitee_rejects_and_a_rejected_invite_is_never_used() {
    let server = TestServer::start().await;
    let dave = server.user_with_role("dave@example.com", "user").await;
    let eve = server.user_with_role("eve@example.com", "user").await;
    let admin = server.admin().await;
    let token = server
        .private_invite(&admin, "admin", "Dave@Example.com")
        .await;

    server
        .client()
        .reject(&token)
        .await
        .err(401, "UNAUTHORIZED");
    eve.reject(&token)
        .await
        .refused_because(400, "CANT_REJECT_INVITE", "NOT_INVITEE");
    admin
        .reject(&token)
        .await
        .refused_because(400, "CANT_REJECT_INVITE", "NOT_INVITEE");
    assert_eq!(server.events(Some("Rejected")).await, 0);

    let rejected = dave.reject(&token).await.ok();
    assert_eq!(rejected["status"], true);
    let info = server.client().invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["status"], "rejected");
    assert_eq!(info["invitation"]["valid"], false);
    dave.activate(&token)
        .await
        .refused_because(400, "INVALID_TOKEN", "INVITE_REJECTED");
    assert_eq!(dave.role().await, "user");
    admin
        .cancel(&token)
        .await
        .refused_because(400, "INVALID_TOKEN", "INVITE_REJECTED");

    // A public invite has nobody to reject it.
    let public = admin.create_invite(json!({ "role": "user" })).await;
    dave.reject(&public)
        .await
        .refused_because(400, "CANT_REJECT_INVITE", "NOT_A_PRIVATE_INVITE");
    assert_eq!(server.events(Some("Used")).await, 0);
}

#[tokio::test]
async fn a_used_up_invite_says_so_everywhere() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "admin", "maxUses": 1 }))
        .await;
    let carol = server.user_with_role("carol@example.com", "user").await;
    carol.activate(&token).await.ok();

    server.client().activate(&token).await.refused_because(
        400,
        "INVITE_TOKEN_HAS_ALREADY_BEEN_USED",
        "INVITE_USED_UP",
    );
    let dave = server.user_with_role("dave@example.com", "user").await;
    dave.activate(&token).await.refused_because(
        400,
        "INVITE_TOKEN_HAS_ALREADY_BEEN_USED",
        "INVITE_USED_UP",
    );
    let info = server.client().invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["status"], "used_up");
    assert_eq!(info["invitation"]["usesLeft"], 0);
    assert_eq!(info["invitation"]["valid"], false);
    admin.cancel(&token).await.refused_because(
        400,
        "INVITE_TOKEN_HAS_ALREADY_BEEN_USED",
        "INVITE_USED_UP",
    );
}
