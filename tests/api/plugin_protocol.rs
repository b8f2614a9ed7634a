//! The invite plugin's current protocol (`better-invite` 0.5.7): what a front end
//! written for it calls, answered as the plugin answers.

use crate::helpers::TestServer;
use chrono::Duration;
use serde_json::json;

#[tokio::test]
async fn invite_list_shows_the_signed_in_users_own_invites() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let other = server.user_with_role("other@example.com", "admin").await;
    let tick = || server.clock.advance(Duration::seconds(1));
    other.create_invite(json!({ "role": "user" })).await;
    admin
        .create_invite(json!({ "role": "user", "maxUses": 2 }))
        .await;
    tick();
    admin.invite_by_email("user", "ann@example.com").await;
    tick();
    admin.invite_by_email("admin", "bob@other.org").await;
    tick();
    let cancelled = admin.create_invite(json!({ "role": "user" })).await;
    admin.cancel(&cancelled).await.ok();

    // `list` is a route, not the link of a token named "list".
    let all = admin.get("/api/auth/invite/list").await.ok();
    assert_eq!(all["total"], 4, "{all}");
    let invitations = all["invitations"].as_array().unwrap();
    assert_eq!(invitations.len(), 4);
    assert_eq!(invitations[0]["maxUses"], 2);
    assert_eq!(invitations[0]["status"], "pending");
    assert_eq!(invitations[0]["emails"], json!([]));
    assert_eq!(invitations[1]["email"], "ann@example.com");
    assert_eq!(invitations[1]["emails"], json!(["ann@example.com"]));
    assert_eq!(invitations[3]["status"], "canceled", "the plugin's word");
    assert!(invitations
        .iter()
        .all(|i| i["createdByUserId"] == all["invitations"][0]["createdByUserId"]));
    assert!(all.get("limit").is_none() && all.get("offset").is_none());

    // Search, filter, sort and page as the plugin does.
    let found = admin
        .get("/api/auth/invite/list?searchValue=other.org&searchField=email&searchOperator=ends_with")
        .await
        .ok();
    assert_eq!(found["total"], 1);
    assert_eq!(found["invitations"][0]["email"], "bob@other.org");
    let admins = admin
        .get("/api/auth/invite/list?filterField=role&filterValue=admin")
        .await
        .ok();
    assert_eq!(admins["total"], 1);
    let open = admin
        .get("/api/auth/invite/list?filterField=status&filterValue=pending&sortBy=createdAt&sortDirection=desc&limit=2&offset=1")
        .await
        .ok();
    assert_eq!(open["total"], 3, "{open}");
    assert_eq!((&open["limit"], &open["offset"]), (&json!(2), &json!(1)));
    assert_eq!(open["invitations"].as_array().unwrap().len(), 2);
    assert_eq!(open["invitations"][0]["email"], "ann@example.com");
    assert_eq!(open["invitations"][1]["maxUses"], 2);

    // Expired as of now, recorded so or not yet.
    server.clock.advance(Duration::hours(2));
    let later = admin.get("/api/auth/invite/list").await.ok();
    assert_eq!(later["invitations"][0]["status"], "expired");

    // Fields the list does not take are refused, not ignored; visitors are refused.
    admin
        .get("/api/auth/invite/list?sortBy=token")
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .get("/api/auth/invite/list?filterField=status&filterValue=lost")
        .await
        .err(400, "VALIDATION_ERROR");
    server
        .client()
        .get("/api/auth/invite/list")
        .await
        .err(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn the_cleanup_options_leave_decided_invites_out_of_the_list() {
    let server = TestServer::start_with(&[
        "--cleanup-invites-on-decision",
        "true",
        "--cleanup-invites-after-max-uses",
        "true",
    ])
    .await;
    let admin = server.admin().await;
    let kept = admin.create_invite(json!({ "role": "user" })).await;
    let cancelled = admin.create_invite(json!({ "role": "user" })).await;
    admin.cancel(&cancelled).await.ok();
    let used = admin.create_invite(json!({ "role": "user" })).await;
    crate::helpers::ledger::sign_up_with(&server, &used, "used@example.com").await;

    let list = admin.get("/api/auth/invite/list").await.ok();
    assert_eq!(list["total"], 1, "{list}");
    let _ = kept;
    // The ledger keeps them: a view, not a deletion.
    assert_eq!(server.events(Some("Cancelled")).await, 1);
    assert_eq!(server.events(Some("Used")).await, 1);
}

#[tokio::test]
async fn email_as_a_list_sends_one_private_invite_to_each() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let sent = admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "user", "email": ["Ann@Example.com", "bob@example.com", "ann@example.com"] }),
        )
        .await
        .ok();
    assert_eq!(sent["status"], true);
    assert_eq!(sent["message"], "The invitations were sent");
    assert_eq!(sent["inviteIds"].as_array().unwrap().len(), 2, "{sent}");
    let ann = server.mailer.last_to("ann@example.com").await;
    let bob = server.mailer.last_to("bob@example.com").await;
    assert_ne!(ann.token, bob.token);

    // One bad address: nothing is created.
    let before = server.events(Some("Created")).await;
    admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "user", "email": ["carl@example.com", "not an email"] }),
        )
        .await
        .refused();
    assert_eq!(server.events(Some("Created")).await, before);
    // A one-element list is a private invite like a string.
    let one = admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "user", "email": ["dora@example.com"] }),
        )
        .await
        .ok();
    assert_eq!(one["message"], "The invitation was sent");
}

#[tokio::test]
async fn custom_invite_urls_and_the_token_in_the_after_upgrade_page() {
    let server = TestServer::start_with(&[
        "--default-custom-invite-url",
        "/invite/{token}?callbackURL={callbackURL}&from=mail",
    ])
    .await;
    let admin = server.admin().await;
    let link = admin
        .create_invite(json!({
            "role": "user",
            "senderResponse": "url",
            "customInviteUrl": "/invite/{token}?callbackURL={callbackURL}&via=custom",
            "redirectToAfterUpgrade": "/welcome?invite={token}",
        }))
        .await;
    assert!(
        link.starts_with("http://localhost:3000/api/auth/invite/")
            && link.ends_with("?callbackURL=%2Fauth%2Fsign-up&via=custom"),
        "{link}"
    );
    let token = link
        .trim_start_matches("http://localhost:3000/api/auth/invite/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let visitor = server.client();
    visitor.activate(&token).await.ok();
    let signed_up = visitor
        .sign_up("new@example.com", "password1", "New")
        .await
        .ok();
    assert_eq!(
        signed_up["invite"]["redirectTo"],
        format!("/welcome?invite={token}")
    );

    // The default applies to emailed links too.
    admin.invite_by_email("user", "mailed@example.com").await;
    let email = server.mailer.last_to("mailed@example.com").await;
    assert!(email.url.ends_with("&from=mail"), "{}", email.url);

    // A custom URL stays on this server and holds the token.
    for custom in [
        "https://evil.example/{token}",
        "//evil.example/{token}",
        "/invite/no-token",
    ] {
        admin
            .post(
                "/api/auth/invite/create",
                json!({ "role": "user", "customInviteUrl": custom }),
            )
            .await
            .err(400, "INVALID_REDIRECT");
    }
}

#[tokio::test]
async fn invite_get_shows_email_and_emails() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = server
        .private_invite(&admin, "user", "erin@example.com")
        .await;
    let info = server.client().invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["email"], "erin@example.com");
    assert_eq!(info["invitation"]["emails"], json!(["erin@example.com"]));
    let public = admin.create_invite(json!({ "role": "user" })).await;
    let info = server.client().invite_info(&public).await.ok();
    assert_eq!(info["invitation"]["email"], serde_json::Value::Null);
    assert_eq!(info["invitation"]["emails"], json!([]));
}

#[tokio::test]
async fn a_failed_link_redirects_with_error_and_message() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin.create_invite(json!({ "role": "user" })).await;
    admin.cancel(&token).await.ok();
    let link = server
        .client()
        .get(&format!("/api/auth/invite/{token}?callbackURL=/join"))
        .await;
    assert_eq!(
        link.location(),
        "/join?error=INVALID_TOKEN&message=The+invite+was+cancelled&reason=INVITE_CANCELLED"
    );
}

#[tokio::test]
async fn cancel_and_reject_policies_and_the_cookie_lifetime_are_options() {
    let server = TestServer::start_with(&[
        "--roles",
        "user,member,admin",
        "--can-cancel-invite",
        "false",
        "--can-reject-invite",
        "false",
        "--invite-cookie-max-age",
        "600",
        "--invite-cookie-name",
        "{prefix}.invite_token",
    ])
    .await;
    let admin = server.admin().await;
    let member = server.user_with_role("member@example.com", "member").await;
    let mine = member.create_invite(json!({ "role": "member" })).await;
    member
        .cancel(&mine)
        .await
        .err(400, "INSUFFICIENT_PERMISSIONS");
    // Admins always may (their own invites: nobody cancels another's).
    let admins = admin.create_invite(json!({ "role": "user" })).await;
    admin.cancel(&admins).await.ok();
    let token = server
        .private_invite(&admin, "user", "fay@example.com")
        .await;
    let fay = server.user_with_role("fay@example.com", "user").await;
    fay.reject(&token).await.err(400, "CANT_REJECT_INVITE");

    // The plugin's cookie name and lifetime.
    let public = admin.create_invite(json!({ "role": "user" })).await;
    let activated = server.client().activate(&public).await;
    let cookie = activated
        .cookie("better-auth.invite_token")
        .expect("the cookie");
    assert!(cookie.contains("Max-Age=600"), "{cookie}");
}
