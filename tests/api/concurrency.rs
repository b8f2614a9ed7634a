//! `maxUses` under load: a crowd racing for the last seats of one invite.

use crate::helpers::TestServer;
use futures::future::join_all;
use serde_json::json;

/// 50 visitors activate one public invite with `maxUses: 5` and sign up at once.
async fn fifty_sign_ups_through_one_invite(server: &TestServer, round: usize) {
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "member", "maxUses": 5 }))
        .await;
    let visitors: Vec<_> = (0..50).map(|_| server.client()).collect();
    for reply in join_all(visitors.iter().map(|v| v.activate(&token))).await {
        reply.ok();
    }
    let sign_ups = visitors.iter().enumerate().map(|(i, v)| {
        let email = format!("round{round}-visitor{i}@example.com");
        async move { v.sign_up(&email, "password1", "Visitor").await }
    });
    let replies = join_all(sign_ups).await;

    let mut upgraded = 0;
    for reply in replies {
        let body = reply.ok();
        match body["user"]["role"].as_str().unwrap() {
            "member" => {
                assert_eq!(body["invite"]["used"], true, "{body}");
                upgraded += 1;
            }
            "user" => assert_eq!(body["invite"]["code"], "INVITE_USED_UP", "{body}"),
            other => panic!("unexpected role {other}"),
        }
    }
    assert_eq!(upgraded, 5, "exactly maxUses sign-ups are upgraded");

    let info = server.client().invite_info(&token).await.ok();
    assert_eq!(info["invitation"]["uses"], 5);
    assert_eq!(info["invitation"]["status"], "used_up");
    server.read_models_caught_up().await;
    let uses: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM invite_use u JOIN invite i ON i.id = u.invite_id
          WHERE i.id = $1::text::uuid",
    )
    .bind(info["invitation"]["id"].as_str().unwrap())
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!(uses, 5, "exactly maxUses uses are recorded");
    let members: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_account WHERE role = 'member' AND email LIKE $1",
    )
    .bind(format!("round{round}-%"))
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!(members, 5, "exactly maxUses accounts hold the invited role");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn max_uses_holds_for_fifty_concurrent_sign_ups_every_time() {
    let server = TestServer::start_with(&["--roles", "user,member,admin"]).await;
    for round in 0..3 {
        fifty_sign_ups_through_one_invite(&server, round).await;
    }
    let used_events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'Used'")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
    assert_eq!(used_events, 15, "the ledger holds exactly the 3 x 5 uses");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signed_in_users_racing_for_the_last_seat_get_a_clear_answer() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "admin", "maxUses": 1 }))
        .await;
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(
            server
                .user_with_role(&format!("racer{i}@example.com"), "user")
                .await,
        );
    }
    let replies = join_all(users.iter().map(|u| u.activate(&token))).await;
    let winners = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(winners, 1);
    for reply in replies.into_iter().filter(|r| r.status != 200) {
        reply.refused_because(400, "INVITE_TOKEN_HAS_ALREADY_BEEN_USED", "INVITE_USED_UP");
    }
    server.read_models_caught_up().await;
    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM user_account WHERE role = 'admin'")
        .fetch_one(server.pool().await)
        .await
        .unwrap();
    assert_eq!(admins, 2, "the original admin and the one winner");
}
