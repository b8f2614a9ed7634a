//! The admin plugin's user management: ban, unban, end a user's sessions,
//! remove a user; each an event of the person with the admin who did it.

use crate::helpers::TestServer;
use chrono::Duration;
use serde_json::json;

#[tokio::test]
async fn a_banned_user_is_signed_out_and_refused_until_unbanned() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = admin.user_id().await;
    let mallory = server.user_with_role("mallory@example.com", "user").await;
    let id = mallory.user_id().await;

    let banned = admin
        .post(
            "/api/auth/admin/ban-user",
            json!({ "userId": id, "banReason": "spam" }),
        )
        .await
        .ok();
    assert_eq!(banned["user"]["banned"], true);
    assert_eq!(banned["user"]["banReason"], "spam");
    assert!(banned["user"]["banExpires"].is_null());
    // Their session ended; sign-in is refused with the admin plugin's code,
    // a wrong password still as a wrong password.
    assert!(mallory.get("/api/auth/get-session").await.body.is_null());
    server
        .client()
        .sign_in("mallory@example.com", "password1")
        .await
        .err(403, "BANNED_USER");
    server
        .client()
        .sign_in("mallory@example.com", "wrong-one")
        .await
        .err(401, "INVALID_EMAIL_OR_PASSWORD");

    // Only admins ban, and nobody bans themselves.
    let other = server.user_with_role("other@example.com", "user").await;
    other
        .post("/api/auth/admin/ban-user", json!({ "userId": admin_id }))
        .await
        .err(403, "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS");
    admin
        .post("/api/auth/admin/ban-user", json!({ "userId": admin_id }))
        .await
        .err(400, "YOU_CANNOT_BAN_YOURSELF");
    admin
        .post(
            "/api/auth/admin/ban-user",
            json!({ "userId": "no-such-user" }),
        )
        .await
        .err(404, "USER_NOT_FOUND");

    let unbanned = admin
        .post("/api/auth/admin/unban-user", json!({ "userId": id }))
        .await
        .ok();
    assert_eq!(unbanned["user"]["banned"], false);
    server
        .client()
        .sign_in("mallory@example.com", "password1")
        .await
        .ok();

    // A ban for a while ends by itself.
    admin
        .post(
            "/api/auth/admin/ban-user",
            json!({ "userId": id, "banExpiresIn": 60 }),
        )
        .await
        .ok();
    server
        .client()
        .sign_in("mallory@example.com", "password1")
        .await
        .err(403, "BANNED_USER");
    server.clock.advance(Duration::seconds(61));
    server
        .client()
        .sign_in("mallory@example.com", "password1")
        .await
        .ok();

    // The person's history: who banned, when, why; who unbanned.
    let history = admin
        .get("/api/ledger/events?type=Banned")
        .await
        .ok()
        .to_string();
    assert!(
        history.contains("spam") && history.contains(&admin_id),
        "{history}"
    );
    assert_eq!(server.events(Some("Banned")).await, 2);
    assert_eq!(server.events(Some("Unbanned")).await, 1);
}

#[tokio::test]
async fn an_admin_ends_a_users_sessions_and_removes_a_user() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = admin.user_id().await;
    let nina = server.user_with_role("nina@example.com", "user").await;
    let id = nina.user_id().await;

    let revoked = admin
        .post(
            "/api/auth/admin/revoke-user-sessions",
            json!({ "userId": id }),
        )
        .await
        .ok();
    assert_eq!(revoked, json!({ "success": true }));
    assert!(nina.get("/api/auth/get-session").await.body.is_null());
    let event: String =
        sqlx::query_scalar("SELECT payload::text FROM events WHERE event_type = 'SessionsRevoked'")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
    assert!(event.contains(&admin_id), "by the admin: {event}");

    admin
        .post("/api/auth/admin/remove-user", json!({ "userId": admin_id }))
        .await
        .err(400, "YOU_CANNOT_REMOVE_YOURSELF");
    let removed = admin
        .post("/api/auth/admin/remove-user", json!({ "userId": id }))
        .await
        .ok();
    assert_eq!(removed, json!({ "success": true }));
    assert_eq!(server.events(Some("Erased")).await, 1);
    server
        .client()
        .sign_in("nina@example.com", "password1")
        .await
        .err(401, "INVALID_EMAIL_OR_PASSWORD");
    let user = admin.get(&format!("/api/ledger/users/{id}")).await.ok();
    assert_eq!(user["email"], "[erased]");
}

#[tokio::test]
async fn listing_users_refuses_what_it_does_not_take_and_shows_the_erased_as_erased() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let olga = server.user_with_role("olga@example.com", "user").await;
    let id = olga.user_id().await;

    // Unknown fields, operators and bounds are a 400, never a 500; nothing
    // but the allowed names reaches the SQL.
    for query in [
        "sortBy=password",
        "sortBy=email;DROP%20TABLE%20user_account",
        "sortDirection=sideways",
        "limit=1001",
        "limit=-1",
        "limit=many",
        "offset=-5",
        "searchField=role&searchValue=admin",
        "searchOperator=like&searchValue=a",
        "filterField=password&filterValue=x",
        "filterField=banned&filterValue=maybe",
        "filterOperator=between&filterValue=a",
        "filterField=role&filterValue=admin&filterValue=user",
    ] {
        let reply = admin
            .get(&format!("/api/auth/admin/list-users?{query}"))
            .await;
        assert_eq!(reply.status, 400, "{query}: {:?}", reply.body);
        assert_eq!(reply.body["code"], "VALIDATION_ERROR", "{query}");
    }

    // `in` and `not_in` take a list (`filterValue` repeated, as the client sends
    // one) or one value.
    let admins = admin
        .get("/api/auth/admin/list-users?filterField=role&filterValue=admin&filterOperator=in")
        .await
        .ok();
    assert!(admins["total"].as_i64().unwrap() >= 1, "{admins}");
    assert!(admins["users"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["role"] == "admin"));
    let others = admin
        .get("/api/auth/admin/list-users?filterField=role&filterValue=admin&filterOperator=not_in")
        .await
        .ok();
    assert!(others["users"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["role"] != "admin"));
    let either = admin
        .get("/api/auth/admin/list-users?filterField=role&filterValue=admin&filterValue=user&filterOperator=in")
        .await
        .ok();
    assert_eq!(
        either["total"].as_i64().unwrap(),
        admins["total"].as_i64().unwrap() + others["total"].as_i64().unwrap(),
        "{either}"
    );

    // At most 1000 a page; without a limit, 100, and no `limit` echoed.
    let all = admin
        .get("/api/auth/admin/list-users?limit=1000")
        .await
        .ok();
    assert_eq!(all["limit"], 1000);
    let default = admin.get("/api/auth/admin/list-users").await.ok();
    assert_eq!(default["total"], 2);
    assert!(default.get("limit").is_none(), "{default}");

    admin
        .post("/api/auth/admin/remove-user", json!({ "userId": id }))
        .await
        .ok();
    let listed = admin
        .get(&format!(
            "/api/auth/admin/list-users?filterField=id&filterValue={id}"
        ))
        .await
        .ok();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["users"][0]["email"], "[erased]");
    assert_eq!(listed["users"][0]["name"], "[erased]");
    let searched = admin
        .get("/api/auth/admin/list-users?searchValue=olga")
        .await
        .ok();
    assert_eq!(searched["total"], 0);
}
