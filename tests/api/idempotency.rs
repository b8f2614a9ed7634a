//! `Idempotency-Key`: a retry of the same request gets the first answer and
//! writes nothing; another request under the key is refused; keys are per
//! user and live 24 hours; and a server killed between the append and the
//! answer leaves a receipt that the retry, on a new process, finds.

use std::time::Duration;

use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::process::{create_user, serve};
use crate::helpers::{Client, Reply, TestDb, TestServer};

async fn post_keyed(client: &Client, key: &str, path: &str, body: Value) -> Reply {
    let response = client
        .http
        .post(format!("{}{path}", client.base))
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    Client::reply(response).await
}

fn replayed(reply: &Reply) -> bool {
    reply
        .headers
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

#[tokio::test]
async fn a_retried_create_answers_the_same_and_creates_once() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let body = json!({ "role": "user", "senderResponse": "token" });
    let first = post_keyed(&admin, "k-1", "/api/auth/invite/create", body.clone()).await;
    let again = post_keyed(&admin, "k-1", "/api/auth/invite/create", body.clone()).await;
    assert!(!replayed(&first));
    assert!(replayed(&again));
    assert_eq!(again.status, first.status);
    assert_eq!(again.body, first.ok());
    assert_eq!(server.events(Some("Created")).await, 1);
    // The replayed token is the invite's.
    let info = server
        .client()
        .invite_info(again.body["message"].as_str().unwrap())
        .await
        .ok();
    assert_eq!(info["invitation"]["id"], again.body["inviteId"]);

    let other = json!({ "role": "admin", "senderResponse": "token" });
    post_keyed(&admin, "k-1", "/api/auth/invite/create", other.clone())
        .await
        .err(422, "IDEMPOTENCY_KEY_REUSED");
    // The same key on another route is another request too.
    post_keyed(
        &admin,
        "k-1",
        "/api/auth/invite/cancel",
        json!({ "inviteId": info["invitation"]["id"] }),
    )
    .await
    .err(422, "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(
        server.events(None).await,
        2,
        "the admin's account and one invite"
    );

    // Keys are per user: another user's same key is theirs.
    let manager = server.user_with_role("second@example.com", "admin").await;
    post_keyed(&manager, "k-1", "/api/auth/invite/create", other.clone())
        .await
        .ok();
    // After 24 hours the key is free again.
    server
        .clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    post_keyed(&admin, "k-1", "/api/auth/invite/create", other)
        .await
        .ok();
    assert_eq!(server.events(Some("Created")).await, 3);
}

#[tokio::test]
async fn concurrent_twins_write_once_and_all_get_the_first_answer() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let body = json!({ "role": "user", "senderResponse": "token" });
    let twins =
        (0..10).map(|_| post_keyed(&admin, "twin", "/api/auth/invite/create", body.clone()));
    let replies = join_all(twins).await;
    let first = &replies[0].body;
    for reply in &replies {
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(&reply.body, first);
    }
    assert_eq!(server.events(Some("Created")).await, 1);
}

#[tokio::test]
async fn cancel_resend_set_role_and_create_many_are_written_once() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let created = admin.invite_by_email("user", "bob@example.com").await;
    let target = json!({ "inviteId": created["inviteId"] });

    let resent = post_keyed(&admin, "r", "/api/auth/invite/resend", target.clone()).await;
    let resent_again = post_keyed(&admin, "r", "/api/auth/invite/resend", target.clone()).await;
    assert_eq!(resent_again.body, resent.ok());
    assert_eq!(server.events(Some("Resent")).await, 1);

    let cancelled = post_keyed(&admin, "c", "/api/auth/invite/cancel", target.clone()).await;
    let cancelled_again = post_keyed(&admin, "c", "/api/auth/invite/cancel", target.clone()).await;
    assert_eq!(cancelled_again.status, 200, "not 410: the first answer");
    assert_eq!(cancelled_again.body, cancelled.ok());
    assert_eq!(server.events(Some("Cancelled")).await, 1);
    // Without the key, a second cancel is a second request.
    admin
        .post("/api/auth/invite/cancel", target)
        .await
        .refused_because(400, "INVALID_TOKEN", "INVITE_CANCELLED");

    let carol = server.client();
    let signed_up = carol
        .sign_up("carol@example.com", "password1", "Carol")
        .await
        .ok();
    let set_role = json!({ "userId": signed_up["user"]["id"], "role": "admin" });
    let first = post_keyed(&admin, "s", "/api/auth/admin/set-role", set_role.clone()).await;
    let again = post_keyed(&admin, "s", "/api/auth/admin/set-role", set_role).await;
    assert_eq!(again.body, first.ok());
    assert_eq!(again.body["user"]["role"], "admin");
    assert_eq!(server.events(Some("RoleSet")).await, 1);

    let many = json!({ "invites": [
        { "email": "m1@example.com", "role": "user" },
        { "email": "m2@example.com", "role": "user" },
    ]});
    let first = post_keyed(&admin, "m", "/api/auth/invite/create-many", many.clone()).await;
    let again = post_keyed(&admin, "m", "/api/auth/invite/create-many", many).await;
    assert_eq!(again.body, first.ok());
    assert_eq!(again.body["created"], 2);
    assert_eq!(server.events(Some("Created")).await, 3);
}

#[tokio::test]
async fn a_bad_key_is_refused() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let long = "k".repeat(256);
    post_keyed(
        &admin,
        &long,
        "/api/auth/invite/create",
        json!({ "role": "user" }),
    )
    .await
    .err(400, "VALIDATION_ERROR");
    assert_eq!(server.events(Some("Created")).await, 0);
}

#[tokio::test]
async fn a_retry_after_a_kill_9_between_append_and_answer_finds_the_first_write() {
    let db = TestDb::new().await;
    create_user(&db, "admin@example.com", "admin", &[]).await;
    let holding = serve(&db, &[("LEDGER_TEST_HOLD_AFTER_APPEND", "1")]).await;
    let session = holding.sign_in("admin@example.com").await;
    let body = json!({ "role": "user", "senderResponse": "token" });

    let http = reqwest::Client::new();
    let request = |base: &str| {
        http.post(format!("{base}/api/auth/invite/create"))
            .bearer_auth(&session)
            .header("idempotency-key", "crash-1")
            .json(&body)
            .send()
    };
    let pending = tokio::spawn(request(&holding.base));
    // The append is committed (event and receipt) and the answer never comes.
    let pool = crate::helpers::small_pool(&db.url).await.unwrap();
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while count("SELECT count(*) FROM events WHERE event_type = 'Created'").await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the append never happened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count("SELECT count(*) FROM idempotency_receipt").await, 1);
    assert!(
        !pending.is_finished(),
        "the request is held after its append"
    );
    holding.kill_9().await;
    assert!(
        pending.await.unwrap().is_err(),
        "the client never got an answer"
    );

    let restarted = serve(&db, &[]).await;
    let retry = request(&restarted.base).await.unwrap();
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let answer: Value = retry.json().await.unwrap();
    assert_eq!(
        count("SELECT count(*) FROM events WHERE event_type = 'Created'").await,
        1
    );
    let recorded: String = sqlx::query_scalar(
        "SELECT payload -> 'Created' -> 'terms' ->> 'invite_id' FROM events
          WHERE event_type = 'Created'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(answer["inviteId"], recorded);
    // The token in the kept answer opens the invite the ledger holds.
    let token = answer["message"].as_str().unwrap();
    let info: Value = http
        .get(format!("{}/api/auth/invite/get", restarted.base))
        .query(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["invitation"]["id"], recorded);
    pool.close().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_key_and_the_new_routes() {
    let server = TestServer::start().await;
    let document = server.client().get("/openapi.json").await.ok();
    let paths = &document["paths"];
    for route in [
        "/api/auth/invite/create",
        "/api/auth/invite/create-many",
        "/api/auth/invite/cancel",
        "/api/auth/invite/resend",
        "/api/auth/admin/set-role",
    ] {
        let post = &paths[route]["post"];
        let names: Vec<&str> = post["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(names.contains(&"Idempotency-Key"), "{route}: {names:?}");
        assert!(post["responses"]["422"].is_object(), "{route}");
    }
    assert!(paths["/api/auth/invite/quota"]["get"].is_object());
    let create = paths["/api/auth/invite/create"]["post"]["responses"].to_string();
    for code in ["INVITE_QUOTA_EXCEEDED", "EMAIL_DOMAIN_NOT_ALLOWED"] {
        assert!(create.contains(code), "{code}");
    }
}
