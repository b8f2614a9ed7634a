//! Who may invite to what, and who may use what: the plugin's defaults, made strict.

use crate::helpers::TestServer;
use serde_json::json;

const ROLES: [&str; 2] = ["--roles", "user,member,admin"];

#[tokio::test]
async fn users_with_the_default_role_cannot_create_invites() {
    let server = TestServer::start_with(&ROLES).await;
    let user = server.user_with_role("user@example.com", "user").await;
    for body in [
        json!({ "role": "user" }),
        json!({ "role": "user", "email": "friend@example.com" }),
    ] {
        user.post("/api/auth/invite/create", body)
            .await
            .err(400, "INSUFFICIENT_PERMISSIONS");
    }
    server
        .client()
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await
        .err(401, "UNAUTHORIZED");
    assert_eq!(server.events(Some("Created")).await, 0);
    assert!(server.mailer.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn nobody_invites_anyone_to_a_role_above_their_own() {
    let server = TestServer::start_with(&ROLES).await;
    let member = server.user_with_role("member@example.com", "member").await;

    // Self-escalation, by a public invite, by one sent to oneself, or by set-role.
    member
        .post("/api/auth/invite/create", json!({ "role": "admin" }))
        .await
        .err(400, "INSUFFICIENT_PERMISSIONS");
    member
        .post(
            "/api/auth/invite/create",
            json!({ "role": "admin", "email": "member@example.com" }),
        )
        .await
        .err(400, "INSUFFICIENT_PERMISSIONS");
    let id = member.user_id().await;
    member
        .post(
            "/api/auth/admin/set-role",
            json!({ "userId": id, "role": "admin" }),
        )
        .await
        .err(403, "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE");
    assert_eq!(member.role().await, "member");

    // An invite to one's own role, sent to oneself, is no way up either.
    let token = server
        .private_invite(&member, "member", "member@example.com")
        .await;
    member.activate(&token).await.refused_because(
        400,
        "CANT_ACCEPT_INVITE",
        "CANNOT_USE_OWN_INVITE",
    );

    // Up to one's own role is allowed, and it works for someone else.
    let token = member.create_invite(json!({ "role": "member" })).await;
    let friend = server.client();
    friend.activate(&token).await.ok();
    friend
        .sign_up("friend@example.com", "password1", "Friend")
        .await
        .ok();
    assert_eq!(friend.role().await, "member");
    assert_eq!(server.events(Some("Created")).await, 2);
}

#[tokio::test]
async fn an_admin_cannot_invite_above_the_admin_role() {
    let server = TestServer::start_with(&["--roles", "user,admin,owner"]).await;
    let admin = server.admin().await;
    admin
        .post("/api/auth/invite/create", json!({ "role": "owner" }))
        .await
        .err(400, "INSUFFICIENT_PERMISSIONS");
    admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "owner", "email": crate::helpers::ADMIN_EMAIL }),
        )
        .await
        .err(400, "INSUFFICIENT_PERMISSIONS");
    assert_eq!(server.events(Some("Created")).await, 0);
}

#[tokio::test]
async fn a_role_that_is_not_configured_is_refused() {
    let server = TestServer::start_with(&ROLES).await;
    let admin = server.admin().await;
    for role in ["superuser", "Admin", "admin ", ""] {
        admin
            .post("/api/auth/invite/create", json!({ "role": role }))
            .await
            .err(400, "ROLE_NOT_CONFIGURED");
    }
    assert_eq!(server.events(Some("Created")).await, 0);
}

#[tokio::test]
async fn nobody_uses_their_own_invite() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "admin", "maxUses": 5 }))
        .await;
    admin.activate(&token).await.refused_because(
        400,
        "CANT_ACCEPT_INVITE",
        "CANNOT_USE_OWN_INVITE",
    );

    // Nor through the cookie after signing out and in again.
    admin.sign_out().await.ok();
    admin.activate(&token).await.ok();
    let signed_in = admin
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await
        .ok();
    assert_eq!(signed_in["invite"]["used"], false);
    assert_eq!(signed_in["invite"]["code"], "CANNOT_USE_OWN_INVITE");
    assert_eq!(server.events(Some("Used")).await, 0);
}

#[tokio::test]
async fn a_person_uses_an_invite_once_even_with_seats_left() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "admin", "maxUses": 5 }))
        .await;
    let carol = server.user_with_role("carol@example.com", "user").await;
    carol.activate(&token).await.ok();
    assert_eq!(carol.role().await, "admin");
    carol.activate(&token).await.refused_because(
        400,
        "INVITE_TOKEN_HAS_ALREADY_BEEN_USED",
        "INVITE_ALREADY_USED_BY_USER",
    );
    let info = carol.invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["uses"], 1, "{info}");
    assert_eq!(server.events(Some("Used")).await, 1);
}

#[tokio::test]
async fn an_invite_never_lowers_a_role() {
    let server = TestServer::start_with(&ROLES).await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "member", "maxUses": 5 }))
        .await;
    let other_admin = server.user_with_role("admin2@example.com", "admin").await;
    other_admin.activate(&token).await.refused_because(
        400,
        "CANT_ACCEPT_INVITE",
        "INVITE_WOULD_LOWER_ROLE",
    );
    assert_eq!(other_admin.role().await, "admin");

    other_admin.sign_out().await.ok();
    other_admin.activate(&token).await.ok();
    let signed_in = other_admin
        .sign_in("admin2@example.com", "password1")
        .await
        .ok();
    assert_eq!(signed_in["user"]["role"], "admin");
    assert_eq!(signed_in["invite"]["code"], "INVITE_WOULD_LOWER_ROLE");
    assert_eq!(other_admin.role().await, "admin");

    // A private invite to a lower role, sent to an admin, is refused the same way.
    let token = server
        .private_invite(&admin, "user", "admin2@example.com")
        .await;
    other_admin.activate(&token).await.refused_because(
        400,
        "CANT_ACCEPT_INVITE",
        "INVITE_WOULD_LOWER_ROLE",
    );
    assert_eq!(other_admin.role().await, "admin");
    assert_eq!(server.events(Some("Used")).await, 0);
}

#[tokio::test]
async fn a_get_link_never_changes_the_role_of_whoever_is_signed_in() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin.create_invite(json!({ "role": "admin" })).await;
    let carol = server.user_with_role("carol@example.com", "user").await;

    // An image tag, a prefetch or a crafted link: a GET with Carol's session.
    for _ in 0..2 {
        let link = carol.get(&format!("/api/auth/invite/{token}")).await;
        assert_eq!(link.status, 303, "{}", link.body);
        assert!(link.cookie("better-auth.invite-token").is_some());
    }
    assert_eq!(carol.role().await, "user");
    assert_eq!(server.events(Some("Used")).await, 0);
    let info = carol.invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["uses"], 0);
    assert_eq!(info["invitation"]["status"], "pending");

    // Carol confirms with a POST (the activated cookie carries the token).
    let used = carol
        .post("/api/auth/invite/activate", json!({}))
        .await
        .ok();
    assert_eq!(used["action"], "REDIRECT_TO_AFTER_UPGRADE");
    assert_eq!(carol.role().await, "admin");
    assert_eq!(server.events(Some("Used")).await, 1);
}
