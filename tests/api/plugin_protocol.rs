//! The invite plugin's current protocol (`better-invite` 0.5.7): what a front end
//! written for it calls, answered as the plugin answers.

use crate::helpers::TestServer;
use chrono::Duration;
use serde_json::{json, Value};

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

#[tokio::test]
async fn unlimited_uses_are_an_option_and_such_an_invite_never_runs_out() {
    let server = TestServer::start_with(&["--infinity-max-uses", "true"]).await;
    let admin = server.admin().await;
    let unlimited = admin.create_invite(json!({ "role": "admin" })).await;

    // As better-invite answers: `infinityMaxUses`, with `maxUses` stored as 1.
    let info = admin.invite_info(&unlimited).await.ok();
    assert_eq!(info["invitation"]["infinityMaxUses"], true, "{info}");
    assert_eq!(info["invitation"]["maxUses"], 1, "{info}");
    assert_eq!(info["invitation"]["usesLeft"], Value::Null, "{info}");

    // Far more people than the stored `maxUses` of 1 use it.
    for n in 1..=4 {
        let visitor = server.client();
        visitor.activate(&unlimited).await.ok();
        let email = format!("guest{n}@example.com");
        let signed_up = visitor.sign_up(&email, "password1", "Guest").await.ok();
        assert_eq!(signed_up["invite"]["used"], true, "{signed_up}");
        assert_eq!(signed_up["user"]["role"], "admin", "{signed_up}");
    }
    let info = admin.invite_info(&unlimited).await.ok();
    assert_eq!(info["invitation"]["uses"], 4, "{info}");
    assert_eq!(info["invitation"]["status"], "pending", "{info}");
    assert_eq!(info["invitation"]["valid"], true, "{info}");

    // A limit given, or a private invite, is kept as before (listed in this order).
    server.clock.advance(Duration::seconds(1));
    let once = admin
        .create_invite(json!({ "role": "user", "maxUses": 1 }))
        .await;
    let first = server.client();
    first.activate(&once).await.ok();
    first
        .sign_up("first@example.com", "password1", "First")
        .await
        .ok();
    server.client().activate(&once).await.refused_because(
        400,
        "INVITE_TOKEN_HAS_ALREADY_BEEN_USED",
        "INVITE_USED_UP",
    );
    server.clock.advance(Duration::seconds(1));
    admin.invite_by_email("user", "pat@example.com").await;

    let list = admin
        .get("/api/auth/invite/list?sortBy=createdAt")
        .await
        .ok();
    let invitations = list["invitations"].as_array().unwrap();
    let flags: Vec<_> = invitations
        .iter()
        .map(|i| (i["infinityMaxUses"].clone(), i["maxUses"].clone()))
        .collect();
    assert_eq!(
        flags,
        vec![
            (json!(true), json!(1)),
            (json!(false), json!(1)),
            (json!(false), json!(1))
        ],
        "{list}"
    );
    assert_eq!(invitations[0]["uses"], 4);
    assert_eq!(invitations[0]["status"], "pending");
    assert_eq!(invitations[1]["status"], "used");
}

#[tokio::test]
async fn without_the_option_an_invite_without_max_uses_has_the_default() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin.create_invite(json!({ "role": "user" })).await;
    let info = admin.invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["infinityMaxUses"], false, "{info}");
    assert_eq!(info["invitation"]["maxUses"], 1, "{info}");
    assert_eq!(info["invitation"]["usesLeft"], 1, "{info}");
    let first = server.client();
    first.activate(&token).await.ok();
    first
        .sign_up("first@example.com", "password1", "First")
        .await
        .ok();
    server.client().activate(&token).await.refused_because(
        400,
        "INVITE_TOKEN_HAS_ALREADY_BEEN_USED",
        "INVITE_USED_UP",
    );
}

/// better-call's `signCookieValue` (value, a dot, the base64 HMAC-SHA-256 under
/// the secret's text), written here from its definition, not from the server's.
fn signed_as_better_auth(value: &str, secret: &str) -> String {
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(value.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("{value}.{signature}")
}

/// A sign-up sent with exactly this invite cookie, from a browser with no other.
async fn sign_up_with_cookie(server: &TestServer, cookie: &str, email: &str) -> Value {
    let reply = reqwest::Client::new()
        .post(format!("http://{}/api/auth/sign-up/email", server.addr))
        .header("cookie", format!("better-auth.invite_token={cookie}"))
        .json(&json!({ "email": email, "password": "password1", "name": "Someone" }))
        .send()
        .await
        .unwrap();
    crate::helpers::Client::reply(reply).await.ok()
}

#[tokio::test]
async fn the_invite_cookie_can_be_signed_as_better_invite_signs_it() {
    let server = TestServer::start_with(&[
        "--invite-cookie-name",
        "{prefix}.invite_token",
        "--invite-cookie-signed",
        "true",
    ])
    .await;
    let secret = server.app.settings.token_hasher.invite_cookie_secret();
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "admin", "maxUses": 5 }))
        .await;

    // The Set-Cookie value is the token signed with the secret, URL-encoded.
    let visitor = server.client();
    let activated = visitor.activate(&token).await;
    let set_cookie = activated
        .cookie("better-auth.invite_token")
        .expect("the invite cookie");
    let decoded = cookie::Cookie::parse_encoded(set_cookie.clone())
        .unwrap()
        .value()
        .to_string();
    assert_eq!(
        decoded,
        signed_as_better_auth(&token, &secret),
        "{set_cookie}"
    );
    assert_ne!(
        decoded,
        signed_as_better_auth(&token, "another secret"),
        "the signature depends on the secret"
    );

    // The browser sends it back: the invite is used at sign-up.
    let signed_up = visitor
        .sign_up("signed@example.com", "password1", "Signed")
        .await
        .ok();
    assert_eq!(signed_up["invite"]["used"], true, "{signed_up}");
    assert_eq!(signed_up["user"]["role"], "admin", "{signed_up}");

    // Unsigned, or signed with another secret: as if there were no cookie.
    let forged_signature = signed_as_better_auth(&token, "guessed secret");
    // Another token under the real token's signature.
    let other = if token.starts_with('A') { "B" } else { "A" };
    let tampered = signed_as_better_auth(&token, &secret).replacen(&token[..1], other, 1);
    for (n, cookie) in [token.clone(), forged_signature, tampered]
        .into_iter()
        .enumerate()
    {
        let encoded: String = url::form_urlencoded::byte_serialize(cookie.as_bytes()).collect();
        let answer =
            sign_up_with_cookie(&server, &encoded, &format!("forger{n}@example.com")).await;
        assert_eq!(answer["user"]["role"], "user", "{cookie}: {answer}");
        assert!(answer["invite"].is_null(), "no invite seen: {answer}");
    }
    // The real signed value, sent the same way, is taken.
    let real: String =
        url::form_urlencoded::byte_serialize(signed_as_better_auth(&token, &secret).as_bytes())
            .collect();
    let answer = sign_up_with_cookie(&server, &real, "honest@example.com").await;
    assert_eq!(answer["user"]["role"], "admin", "{answer}");
}
