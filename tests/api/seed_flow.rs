//! The seed's flows end to end over HTTP: public invites (token, code, custom, URL),
//! private invites by email, and the role each leaves behind.

use crate::helpers::TestServer;
use serde_json::json;

#[tokio::test]
async fn admin_invites_a_visitor_who_signs_up_with_the_invited_role() {
    let server = TestServer::start_with(&["--roles", "user,member,admin"]).await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "member", "senderResponse": "token" }))
        .await;
    assert_eq!(
        token.len(),
        24,
        "a default token has 24 characters: {token}"
    );

    let visitor = server.client();
    let activated = visitor.activate(&token).await;
    assert!(
        activated
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("better-auth.invite-token=")
                && c.contains("HttpOnly")
                && c.contains("SameSite=Lax")),
        "activation sets the HttpOnly invite cookie: {:?}",
        activated.set_cookies()
    );
    let activated = activated.ok();
    assert_eq!(activated["action"], "SIGN_IN_UP_REQUIRED");
    assert_eq!(activated["redirectTo"], "/auth/sign-up");

    let signed_up = visitor
        .sign_up("Test@Example.com", "test123", "Test User")
        .await;
    assert!(
        signed_up
            .set_cookies()
            .iter()
            .any(|c| c.starts_with("better-auth.invite-token=;")
                || c.starts_with("better-auth.invite-token=\"\"")
                || (c.starts_with("better-auth.invite-token=") && c.contains("Max-Age=0"))),
        "the invite cookie is cleared: {:?}",
        signed_up.set_cookies()
    );
    let signed_up = signed_up.ok();
    assert_eq!(signed_up["user"]["role"], "member");
    assert_eq!(signed_up["user"]["email"], "test@example.com");
    assert_eq!(signed_up["redirect"], true);
    assert_eq!(signed_up["url"], "/auth/invited");
    assert_eq!(signed_up["invite"]["used"], true);

    assert_eq!(visitor.role().await, "member");
    let info = visitor.invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["status"], "used_up");
    assert_eq!(info["invitation"]["uses"], 1);

    let uses: Vec<(String, String, String, bool)> =
        sqlx::query_as("SELECT user_email, role_before, role_granted, new_account FROM invite_use")
            .fetch_all(server.pool().await)
            .await
            .unwrap();
    assert_eq!(
        uses,
        vec![(
            "test@example.com".into(),
            "user".into(),
            "member".into(),
            true
        )]
    );
}

#[tokio::test]
async fn sign_up_without_invite_gets_the_default_role() {
    let server = TestServer::start().await;
    let visitor = server.client();
    let signed_up = visitor
        .sign_up("plain@example.com", "password1", "Plain")
        .await
        .ok();
    assert_eq!(signed_up["user"]["role"], "user");
    assert_eq!(signed_up["redirect"], false);
    assert!(signed_up.get("invite").is_none());
    assert_eq!(visitor.role().await, "user");
}

#[tokio::test]
async fn a_private_invite_upgrades_an_existing_user_on_sign_in() {
    let server = TestServer::start().await;
    let bob = server.client();
    bob.sign_up("bob@example.com", "bob-password", "Bob")
        .await
        .ok();
    bob.post("/api/auth/sign-out", json!({})).await.ok();

    let admin = server.admin().await;
    let created = admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "admin", "email": "Bob@Example.com" }),
        )
        .await
        .ok();
    assert_eq!(created["message"], "The invitation was sent");

    let email = server.mailer.last_to("bob@example.com").await;
    assert!(
        !email.new_account,
        "Bob already has an account: a role upgrade"
    );
    assert_eq!(email.subject(), "Role upgrade invitation");
    assert_eq!(email.role, "admin");
    assert_eq!(email.inviter_name.as_deref(), Some("Ada Admin"));
    assert!(
        email
            .url
            .starts_with("http://localhost:3000/api/auth/invite/"),
        "{}",
        email.url
    );
    assert!(
        email.url.contains("callbackURL=%2Fauth%2Fsign-in"),
        "{}",
        email.url
    );

    // Bob follows the link: it activates and redirects to sign-in, nothing more.
    let path = email.url.strip_prefix("http://localhost:3000").unwrap();
    let link = bob.get(path).await;
    assert_eq!(link.status, 303, "{}", link.body);
    assert_eq!(link.location(), "/auth/sign-in");

    let signed_in = bob.sign_in("bob@example.com", "bob-password").await.ok();
    assert_eq!(signed_in["user"]["role"], "admin");
    assert_eq!(signed_in["redirect"], true);
    assert_eq!(signed_in["url"], "/auth/invited");
    assert_eq!(bob.role().await, "admin");

    let (new_account, role_before): (bool, String) =
        sqlx::query_as("SELECT new_account, role_before FROM invite_use")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
    assert!(!new_account);
    assert_eq!(role_before, "user");
}

#[tokio::test]
async fn a_private_invite_for_a_new_email_leads_to_sign_up() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "admin", "email": "new@example.com" }),
        )
        .await
        .ok();
    let email = server.mailer.last_to("new@example.com").await;
    assert!(email.new_account);
    assert_eq!(email.subject(), "You're invited to join our platform!");
    assert!(email.url.contains("callbackURL=%2Fauth%2Fsign-up"));

    let visitor = server.client();
    let activated = visitor.activate(&email.token).await.ok();
    assert_eq!(activated["redirectTo"], "/auth/sign-up");
    let signed_up = visitor
        .sign_up("NEW@example.com", "password1", "Newcomer")
        .await
        .ok();
    assert_eq!(signed_up["user"]["role"], "admin");
}

#[tokio::test]
async fn code_tokens_are_six_upper_case_characters_and_work() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let code = admin
        .create_invite(json!({ "role": "user", "tokenType": "code", "senderResponse": "token" }))
        .await;
    assert_eq!(code.len(), 6);
    assert!(
        code.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
        "{code}"
    );

    let visitor = server.client();
    visitor.activate(&code).await.ok();
    let signed_up = visitor
        .sign_up("coder@example.com", "password1", "Coder")
        .await
        .ok();
    assert_eq!(signed_up["invite"]["used"], true);
}

#[tokio::test]
async fn custom_tokens_come_from_the_configured_generator() {
    let server = TestServer::start_with(&[
        "--custom-token-prefix",
        "BETA-",
        "--custom-token-length",
        "8",
    ])
    .await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "user", "tokenType": "custom" }))
        .await;
    assert!(token.starts_with("BETA-") && token.len() == 13, "{token}");
    let info = server.client().invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["tokenType"], "custom");
}

#[tokio::test]
async fn sender_response_url_activates_and_redirects_when_followed() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let url = admin
        .create_invite(
            json!({ "role": "user", "senderResponse": "url", "senderResponseRedirect": "signIn" }),
        )
        .await;
    assert!(
        url.starts_with("http://localhost:3000/api/auth/invite/"),
        "{url}"
    );
    assert!(url.ends_with("?callbackURL=%2Fauth%2Fsign-in"), "{url}");

    let visitor = server.client();
    let followed = visitor
        .get(url.strip_prefix("http://localhost:3000").unwrap())
        .await;
    assert_eq!(followed.status, 303);
    assert_eq!(followed.location(), "/auth/sign-in");
    assert!(followed
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("better-auth.invite-token=")));
    server.read_models_caught_up().await;
    let activations: i32 = sqlx::query_scalar("SELECT activations FROM invite")
        .fetch_one(server.pool().await)
        .await
        .unwrap();
    assert_eq!(activations, 1);

    let signed_up = visitor
        .sign_up("linked@example.com", "password1", "Linked")
        .await
        .ok();
    assert_eq!(signed_up["invite"]["used"], true);
}

#[tokio::test]
async fn a_signed_in_user_confirms_with_post_and_is_upgraded() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "admin", "maxUses": 2 }))
        .await;

    let carol = server.user_with_role("carol@example.com", "user").await;
    let used = carol.activate(&token).await.ok();
    assert_eq!(used["action"], "REDIRECT_TO_AFTER_UPGRADE");
    assert_eq!(used["redirectTo"], "/auth/invited");
    assert_eq!(carol.role().await, "admin");
}

#[tokio::test]
async fn get_shows_the_invite_and_the_inviter_only_when_shared() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let shared = admin.create_invite(json!({ "role": "user" })).await;
    let hidden = admin
        .create_invite(json!({ "role": "user", "shareInviterName": false }))
        .await;
    let visitor = server.client();

    let info = visitor.invite_info(&shared).await.ok();
    assert_eq!(info["status"], true);
    assert_eq!(info["inviter"]["name"], "Ada Admin");
    assert_eq!(info["invitation"]["role"], "user");
    assert_eq!(info["invitation"]["newAccount"], true);
    assert_eq!(info["invitation"]["status"], "pending");
    assert_eq!(info["invitation"]["usesLeft"], 1);

    let info = visitor.invite_info(&hidden).await.ok();
    assert!(info["inviter"]["name"].is_null(), "{info}");
    assert!(info["inviter"]["email"].is_null(), "{info}");
    assert!(!info.to_string().contains("Ada"), "{info}");
    assert!(
        !info.to_string().contains(crate::helpers::ADMIN_EMAIL),
        "{info}"
    );

    // The same through POST, as older clients call it.
    let posted = visitor
        .post("/api/auth/invite/get", json!({ "token": shared }))
        .await
        .ok();
    assert_eq!(posted["invitation"]["role"], "user");
}
