//! Quotas per inviter (`INVITE_QUOTAS`): open invites at once and invites per
//! rolling day, held under concurrency on one server and across two, freed by
//! cancels, uses and expiry, counted for bulk creates, and told by
//! `GET /invite/quota`.

use chrono::Duration;
use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::process::{create_user, serve};
use crate::helpers::{Client, TestDb, TestServer};

const ROLES: &str = "user,manager,admin";

async fn manager_server(quotas: &str) -> (TestServer, Client) {
    let server = TestServer::start_with(&["--roles", ROLES, "--invite-quotas", quotas]).await;
    let manager = server
        .user_with_role("manager@example.com", "manager")
        .await;
    (server, manager)
}

fn public_invite() -> Value {
    json!({ "role": "user", "senderResponse": "token" })
}

async fn quota(client: &Client) -> Value {
    client.get("/api/auth/invite/quota").await.ok()
}

#[tokio::test]
async fn fifty_concurrent_creates_at_five_open_give_exactly_five() {
    let (server, manager) = manager_server("manager:open=5").await;
    let creates = (0..50).map(|_| manager.post("/api/auth/invite/create", public_invite()));
    let replies = join_all(creates).await;
    let created = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(created, 5, "exactly the quota is created");
    for reply in replies.into_iter().filter(|r| r.status != 200) {
        let body = reply.err(429, "INVITE_QUOTA_EXCEEDED");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("open invites: 5 of 5"),
            "{body}"
        );
    }
    assert_eq!(server.events(Some("Created")).await, 5);
    let left = quota(&manager).await;
    assert_eq!(left["role"], "manager");
    assert_eq!(left["open"], json!({ "limit": 5, "used": 5, "left": 0 }));
    assert_eq!(
        left["day"],
        json!({ "limit": null, "used": 5, "left": null })
    );
}

#[tokio::test]
async fn cancelled_used_rejected_and_expired_invites_free_their_slot() {
    let (server, manager) = manager_server("manager:open=2").await;
    let full = || async {
        manager
            .post("/api/auth/invite/create", public_invite())
            .await
            .err(429, "INVITE_QUOTA_EXCEEDED");
    };

    // Cancelled.
    let first = manager
        .post("/api/auth/invite/create", public_invite())
        .await
        .ok();
    manager.create_invite(public_invite()).await;
    full().await;
    manager
        .post(
            "/api/auth/invite/cancel",
            json!({ "inviteId": first["inviteId"] }),
        )
        .await
        .ok();
    assert_eq!(quota(&manager).await["open"]["left"], 1);
    let token = manager.create_invite(public_invite()).await;
    full().await;

    // Used.
    let visitor = server.client();
    visitor.activate(&token).await.ok();
    visitor
        .sign_up("new@example.com", "password1", "New")
        .await
        .ok();
    let private = server
        .private_invite(&manager, "user", "rejecter@example.com")
        .await;
    full().await;

    // Rejected: the invitee signs up without the invite and rejects it.
    let rejecter = server.client();
    rejecter
        .sign_up("rejecter@example.com", "password1", "Rejecter")
        .await
        .ok();
    rejecter.reject(&private).await.ok();
    manager
        .create_invite(json!({ "role": "user", "expiresIn": 60 }))
        .await;
    full().await;

    // Expired, before the sweeper wrote `Expired`.
    server.clock.advance(Duration::seconds(61));
    assert_eq!(quota(&manager).await["open"]["used"], 1);
    manager.create_invite(public_invite()).await;
    full().await;
}

#[tokio::test]
async fn a_day_limit_counts_every_invite_of_the_last_24_hours() {
    let (server, manager) = manager_server("manager:day=3").await;
    for _ in 0..3 {
        let token = manager.create_invite(public_invite()).await;
        manager.cancel(&token).await.ok();
    }
    let body = manager
        .post("/api/auth/invite/create", public_invite())
        .await
        .err(429, "INVITE_QUOTA_EXCEEDED");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("invites in 24 hours: 3 of 3"),
        "{body}"
    );
    server.clock.advance(Duration::hours(24));
    manager.create_invite(public_invite()).await;
    assert_eq!(
        quota(&manager).await["day"],
        json!({ "limit": 3, "used": 1, "left": 2 })
    );
}

#[tokio::test]
async fn bulk_creates_count_and_stop_at_the_quota() {
    let (server, manager) = manager_server("manager:open=5").await;
    manager.create_invite(public_invite()).await;
    let invites: Vec<Value> = (0..6)
        .map(|i| json!({ "email": format!("bulk{i}@example.com"), "role": "user" }))
        .collect();
    let answer = manager
        .post(
            "/api/auth/invite/create-many",
            json!({ "invites": invites }),
        )
        .await
        .ok();
    assert_eq!(answer["created"], 4);
    assert_eq!(answer["refused"], 2);
    // The count a refused row sees includes the rows admitted before it.
    for row in &answer["invites"].as_array().unwrap()[4..] {
        assert_eq!(row["error"]["code"], "INVITE_QUOTA_EXCEEDED", "{row}");
        let message = row["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("open invites: 5 of 5, 4 of them from this request"),
            "{row}"
        );
    }
    assert_eq!(server.events(Some("Created")).await, 5);
    assert_eq!(quota(&manager).await["open"]["left"], 0);
}

#[tokio::test]
async fn roles_without_a_quota_are_not_limited() {
    let (server, _) = manager_server("manager:open=1").await;
    let admin = server.admin().await;
    for _ in 0..3 {
        admin.create_invite(public_invite()).await;
    }
    let left = quota(&admin).await;
    assert_eq!(
        left["open"],
        json!({ "limit": null, "used": 3, "left": null })
    );
    server
        .client()
        .get("/api/auth/invite/quota")
        .await
        .err(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn two_server_processes_share_one_quota() {
    let db = TestDb::new().await;
    let env = [("ROLES", ROLES), ("INVITE_QUOTAS", "manager:open=5")];
    create_user(&db, "manager@example.com", "manager", &env).await;
    let (one, two) = tokio::join!(serve(&db, &env), serve(&db, &env));
    let token = one.sign_in("manager@example.com").await;
    let http = reqwest::Client::new();
    let creates = (0..50).map(|i| {
        let base = if i % 2 == 0 { &one.base } else { &two.base };
        http.post(format!("{base}/api/auth/invite/create"))
            .bearer_auth(&token)
            .json(&public_invite())
            .send()
    });
    let statuses: Vec<u16> = join_all(creates)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    let pool = crate::helpers::small_pool(&db.url).await.unwrap();
    let created: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'Created'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(created, 5);
    pool.close().await;
}
