//! Accounts as Better Auth serves them: bearer tokens for scripts, the session
//! cookie, sign-out, invite-only sign-up, roles set by an admin, and health.

use crate::helpers::TestServer;
use chrono::Duration;
use serde_json::{json, Value};

const SESSION_COOKIE: &str = "better-auth.session_token";

#[tokio::test]
async fn scripts_sign_in_and_call_the_api_with_a_bearer_token() {
    let server = TestServer::start().await;
    let signed_in = server
        .client()
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    let header = signed_in.headers["set-auth-token"]
        .to_str()
        .unwrap()
        .to_string();
    let token = signed_in.ok()["token"].as_str().unwrap().to_string();
    assert_eq!(header, token);

    let script = server.bearer_client(&token);
    let session = script.session().await;
    assert_eq!(session["user"]["email"], crate::helpers::ADMIN_EMAIL);
    assert_eq!(session["session"]["token"], token.as_str());
    let invite = script.create_invite(json!({ "role": "user" })).await;
    script.cancel(&invite).await.ok();

    let stranger = server.bearer_client("not-a-session-token");
    assert!(stranger.get("/api/auth/get-session").await.body.is_null());
    stranger
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await
        .err(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_lax_over_http() {
    let server = TestServer::start().await;
    let signed_in = server
        .client()
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    let cookie = signed_in.cookie(SESSION_COOKIE).expect("a session cookie");
    let token = signed_in.body["token"].as_str().unwrap();
    assert!(
        cookie.starts_with(&format!("{SESSION_COOKIE}={token};")),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
}

#[tokio::test]
async fn cookies_are_secure_when_the_base_url_is_https() {
    let server = TestServer::start_with(&["--base-url", "https://auth.example.com"]).await;
    // Secure cookies do not travel over the test's plain http: the admin uses a bearer token.
    let admin = server.bearer_client(&server.admin_token().await);
    let token = admin.create_invite(json!({ "role": "user" })).await;
    let visitor = server.client();
    let activated = visitor.activate(&token).await;
    // Better Auth's `__Secure-` prefix under https: browsers refuse such cookies over http.
    let invite_cookie = activated
        .cookie("__Secure-better-auth.invite-token")
        .unwrap();
    let signed_up = visitor.sign_up("v@example.com", "password1", "V").await;
    let session_cookie = signed_up
        .cookie(&format!("__Secure-{SESSION_COOKIE}"))
        .unwrap();
    for cookie in [invite_cookie, session_cookie] {
        for attribute in ["HttpOnly", "SameSite=Lax", "Secure"] {
            assert!(cookie.contains(attribute), "{attribute} in {cookie}");
        }
    }
}

#[tokio::test]
async fn sign_out_ends_the_session_for_cookie_and_bearer_alike() {
    let server = TestServer::start().await;
    let browser = server.client();
    let token = browser
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await
        .ok()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let signed_out = browser.sign_out().await;
    assert!(
        signed_out.clears_cookie(SESSION_COOKIE),
        "{:?}",
        signed_out.set_cookies()
    );
    assert_eq!(signed_out.ok()["success"], true);
    assert!(browser.get("/api/auth/get-session").await.body.is_null());
    let old = server.bearer_client(&token);
    assert!(old.get("/api/auth/get-session").await.body.is_null());
    old.post("/api/auth/invite/create", json!({ "role": "user" }))
        .await
        .err(401, "UNAUTHORIZED");

    // A script signs out with its bearer token.
    let script = server.bearer_client(&server.admin_token().await);
    script.sign_out().await.ok();
    assert!(script.get("/api/auth/get-session").await.body.is_null());
}

#[tokio::test]
async fn a_session_ends_when_its_time_is_up() {
    let server = TestServer::start_with(&["--session-expires-in", "3600"]).await;
    let admin = server.admin().await;
    server.clock.advance(Duration::seconds(3599));
    assert_eq!(admin.role().await, "admin");
    server.clock.advance(Duration::seconds(1));
    assert!(admin.get("/api/auth/get-session").await.body.is_null());
}

async fn accounts(server: &TestServer) -> i64 {
    // The read models fold writes after they answer: count a settled state.
    server.read_models_caught_up().await;
    sqlx::query_scalar("SELECT count(*) FROM user_account")
        .fetch_one(server.pool().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn invite_only_sign_up_needs_a_valid_invite() {
    let server = TestServer::start_with(&["--invite-only", "true"]).await;
    let admin = server.admin().await;
    let before = accounts(&server).await;

    let visitor = server.client();
    visitor
        .sign_up("walk-in@example.com", "password1", "Walk In")
        .await
        .err(403, "INVITE_REQUIRED");

    // Invites that expired, were cancelled or are bound to someone else.
    let expiring = admin
        .create_invite(json!({ "role": "user", "expiresIn": 60 }))
        .await;
    let cancelled = admin.create_invite(json!({ "role": "user" })).await;
    let bobs = server
        .private_invite(&admin, "user", "bob@example.com")
        .await;
    let holders: Vec<_> = (0..3).map(|_| server.client()).collect();
    for (holder, token) in holders.iter().zip([&expiring, &cancelled, &bobs]) {
        holder.activate(token).await.ok();
    }
    admin.cancel(&cancelled).await.ok();
    server.clock.advance(Duration::seconds(61));
    let refusals = [
        ("INVALID_OR_EXPIRED_INVITE", "INVITE_EXPIRED"),
        ("INVALID_TOKEN", "INVITE_CANCELLED"),
        ("INVALID_EMAIL", "INVITE_EMAIL_MISMATCH"),
    ];
    for (holder, (code, reason)) in holders.iter().zip(refusals) {
        holder
            .sign_up("walk-in@example.com", "password1", "Walk In")
            .await
            .refused_because(400, code, reason);
        assert!(holder.get("/api/auth/get-session").await.body.is_null());
    }
    assert_eq!(accounts(&server).await, before, "no account was made");
    assert_eq!(server.events(Some("Registered")).await, before);

    let welcome = admin.create_invite(json!({ "role": "user" })).await;
    visitor.activate(&welcome).await.ok();
    let signed_up = visitor
        .sign_up("invited@example.com", "password1", "Invited")
        .await
        .ok();
    assert_eq!(signed_up["invite"]["used"], true);
    assert_eq!(visitor.role().await, "user");
    assert_eq!(accounts(&server).await, before + 1);

    // Signing in needs no invite.
    server.admin_token().await;
}

#[tokio::test]
async fn an_admin_sets_a_role_and_the_ledger_records_it() {
    let server = TestServer::start_with(&["--roles", "user,member,admin,owner"]).await;
    let admin = server.admin().await;
    let admin_id = admin.user_id().await;
    let carol = server.client();
    let carol_id = carol
        .sign_up("carol@example.com", "password1", "Carol")
        .await
        .ok()["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let set = admin
        .post(
            "/api/auth/admin/set-role",
            json!({ "userId": carol_id, "role": "member" }),
        )
        .await
        .ok();
    assert_eq!(set["user"]["role"], "member");
    assert_eq!(carol.role().await, "member", "her open session shows it");

    let (aggregate_type, aggregate_id, payload): (String, String, Value) = sqlx::query_as(
        "SELECT aggregate_type, aggregate_id, payload::jsonb FROM events
          WHERE event_type = 'RoleSet'",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!(aggregate_type, "user");
    assert_eq!(aggregate_id, carol_id);
    let role_set = &payload["RoleSet"];
    assert_eq!(role_set["role_before"], "user", "{payload}");
    assert_eq!(role_set["role"], "member", "{payload}");
    assert_eq!(role_set["by_user_id"], admin_id.as_str(), "{payload}");

    // Refused: a member setting roles, an admin granting above their own role.
    let member = carol;
    member
        .post(
            "/api/auth/admin/set-role",
            json!({ "userId": admin_id, "role": "user" }),
        )
        .await
        .err(403, "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE");
    admin
        .post(
            "/api/auth/admin/set-role",
            json!({ "userId": carol_id, "role": "owner" }),
        )
        .await
        .err(403, "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE");
    assert_eq!(server.events(Some("RoleSet")).await, 1);
    assert_eq!(member.role().await, "member");
    assert_eq!(admin.role().await, "admin");
}

#[tokio::test]
async fn health_and_readiness() {
    let server = TestServer::start().await;
    let client = server.client();
    let health = client.get("/healthz").await.ok();
    assert_eq!(health["status"], "ok");

    server
        .admin()
        .await
        .create_invite(json!({ "role": "user" }))
        .await;
    let ready = client.get("/readyz").await.ok();
    assert_eq!(ready["database"], "ok");
    assert_eq!(ready["caughtUp"], true);
    let names: Vec<&str> = ready["projections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["invite", "invite_use", "user_account"] {
        assert!(names.contains(&name), "{name} in {ready}");
    }
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let server = TestServer::start().await;
    server.pool().await.close().await;
    let reply = server.client().get("/readyz").await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.body["caughtUp"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invite_only_admits_no_more_sign_ups_than_the_invite_has_uses() {
    let server = TestServer::start_with(&["--invite-only", "true"]).await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "user", "maxUses": 2 }))
        .await;
    let visitors: Vec<_> = (0..12).map(|_| server.client()).collect();
    for visitor in &visitors {
        visitor.activate(&token).await.ok();
    }
    let before = accounts(&server).await;
    let sign_ups = visitors.iter().enumerate().map(|(i, v)| async move {
        v.sign_up(&format!("crowd{i}@example.com"), "password1", "Crowd")
            .await
    });
    let replies = futures::future::join_all(sign_ups).await;
    let admitted = replies.iter().filter(|r| r.status == 200).count();
    for reply in replies.into_iter().filter(|r| r.status != 200) {
        reply.refused_because(400, "INVITE_TOKEN_HAS_ALREADY_BEEN_USED", "INVITE_USED_UP");
    }
    assert_eq!(admitted, 2, "exactly maxUses sign-ups get in");
    assert_eq!(
        accounts(&server).await,
        before + 2,
        "and only they have accounts"
    );
}

/// Sign-up by invite records the account and the use together: the account is
/// in its inviter's tree (live and after a rebuild's fold), and a registration
/// that fails (the same email signing up at the same moment) spends no seat.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invite_only_sign_up_keeps_the_tree_and_gives_failed_seats_back() {
    let server = TestServer::start_with(&["--invite-only", "true"]).await;
    let admin = server.admin().await;
    let admin_id = admin.user_id().await;
    let token = admin
        .create_invite(json!({ "role": "admin", "maxUses": 5 }))
        .await;

    // Eight visitors sign up as the same person at once: one account, one seat.
    let visitors: Vec<_> = (0..8).map(|_| server.client()).collect();
    for visitor in &visitors {
        visitor.activate(&token).await.ok();
    }
    let sign_ups = visitors
        .iter()
        .map(|v| async move { v.sign_up("twin@example.com", "password1", "Twin").await });
    let replies = futures::future::join_all(sign_ups).await;
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 1);
    for reply in replies.into_iter().filter(|r| r.status != 200) {
        reply.err(422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");
    }
    let info = server.client().invite_info(&token).await.ok();
    let invite_id = info["invitation"]["id"].as_str().unwrap().to_string();
    let invite = admin
        .get(&format!("/api/ledger/invites/{invite_id}"))
        .await
        .ok();
    assert_eq!(invite["invite"]["uses"], 1, "failed sign-ups took no seat");

    // The one account is the admin's invitee, with the invited role.
    let tree = admin
        .get(&format!("/api/ledger/users/{admin_id}/invitees"))
        .await
        .ok();
    let invitees = tree["invitees"].as_array().unwrap();
    assert_eq!(invitees.len(), 1, "{tree}");
    assert_eq!(invitees[0]["email"], "twin@example.com");
    assert_eq!(invitees[0]["invitedBy"], admin_id.as_str());
    assert_eq!(invitees[0]["role"], "admin");
}
