//! Read your writes across replicas: a write's answer carries `Ledger-Position`;
//! another replica given that header answers only once its read models have
//! applied that far, and says so (503) rather than answer from behind.

use serde_json::{json, Value};

use std::time::{Duration, Instant};

use crate::helpers::{Client, TestServer, ADMIN_EMAIL};
use invite_ledger::clock::Clock;
use invite_ledger::domain::invite::{Actor, InviteCommand};
use invite_ledger::ledger::{try_lock, Guard};

const READ_MODELS: [&str; 3] = ["invite", "invite_use", "user_account"];

async fn status_with(client: &Client, token: &str, position: Option<&str>) -> (u16, Value) {
    let mut request = client
        .http
        .get(format!("{}/api/auth/invite/get?token={token}", client.base));
    if let Some(position) = position {
        request = request.header("ledger-position", position);
    }
    let reply = Client::reply(request.send().await.unwrap()).await;
    (reply.status.as_u16(), reply.body)
}

#[tokio::test]
async fn a_write_on_one_replica_is_read_on_another_with_its_position() {
    let a = TestServer::start().await;
    let (b_app, _b_tasks) =
        crate::helpers::replica(&a.db, a.clock.clone(), &["--position-wait-ms", "2000"]).await;
    let (b_addr, _b_serving) = crate::helpers::serve_http(b_app).await;
    let b = Client {
        http: reqwest::Client::new(),
        base: format!("http://{b_addr}"),
    };

    // The write's answer names its position; B, given it, shows the invite.
    let admin = a.admin().await;
    let created = admin
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await;
    let position = created.headers["ledger-position"]
        .to_str()
        .unwrap()
        .to_string();
    let token = created.ok()["message"].as_str().unwrap().to_string();
    let (status, body) = status_with(&b, &token, Some(&position)).await;
    assert_eq!(
        (status, body["invitation"]["status"].clone()),
        (200, json!("pending")),
        "{body}"
    );
    // A read answers without the header; it writes nothing.
    let read = b.get(&format!("/api/auth/invite/get?token={token}")).await;
    assert!(read.headers.get("ledger-position").is_none());

    // Positions are checked: malformed, or naming no event of this ledger.
    let (status, body) = status_with(&b, &token, Some("not-a-position")).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("INVALID_LEDGER_POSITION"))
    );
    let (status, body) = status_with(&b, &token, Some("999999999/1")).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("UNKNOWN_LEDGER_POSITION"))
    );

    // Stall every read model (as a rebuild holding their locks would), then
    // cancel the invite through the ledger: the log has it, the views not yet.
    let held = stall_read_models(&a.db.url).await;
    let session = admin.session().await;
    let by = Actor {
        user_id: session["user"]["id"].as_str().unwrap().to_string(),
        email: ADMIN_EMAIL.to_string(),
        name: "Ada Admin".to_string(),
        role: "admin".to_string(),
    };
    let cancelled = a
        .app
        .ledger
        .execute(
            &crate::helpers::invite_hash(&token),
            InviteCommand::Cancel {
                by,
                at: a.clock.now(),
            },
            &Guard::default(),
        )
        .await
        .unwrap()
        .expect("the cancel was appended")
        .to_string();

    // Without the header B answers from its views, which are behind; with it,
    // B waits its 2 s and then refuses instead of answering from behind.
    let (_, body) = status_with(&b, &token, None).await;
    assert_eq!(body["invitation"]["status"], "pending", "{body}");
    let (status, body) = status_with(&b, &token, Some(&cancelled)).await;
    assert_eq!(
        (status, body["code"].clone()),
        (503, json!("POSITION_NOT_REACHED")),
        "{body}"
    );

    // Once the read models move again, the same request shows the cancel.
    held.rollback().await.unwrap();
    let (status, body) = status_with(&b, &token, Some(&cancelled)).await;
    assert_eq!(
        (status, body["invitation"]["status"].clone()),
        (200, json!("cancelled")),
        "{body}"
    );
}

/// Holds every read model's lock (as a rebuild does), so none moves until the
/// transaction is rolled back.
async fn stall_read_models(url: &str) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    for _ in 0..1000 {
        let mut held = pool.begin().await.unwrap();
        let mut locked = 0;
        for name in READ_MODELS {
            locked += try_lock(&mut held, name).await.unwrap() as usize;
        }
        if locked == READ_MODELS.len() {
            return held;
        }
        // A batch holds one of them right now: let go and try again.
        held.rollback().await.unwrap();
    }
    panic!("the read models' locks were not taken");
}

#[tokio::test]
async fn a_write_answers_before_the_read_models_and_the_next_read_sees_it() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let visitor = server.client();

    // The read models stand still: a write is answered all the same, from its
    // own event, with its position.
    let held = stall_read_models(&server.db.url).await;
    let started = Instant::now();
    let created = admin
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await;
    let waited = started.elapsed();
    assert!(created.headers.get("ledger-position").is_some());
    let token = created.ok()["message"].as_str().unwrap().to_string();
    assert!(
        waited < Duration::from_secs(3),
        "the write waited {waited:?} for read models that could not move"
    );

    // The next read on this server, by anyone, without a header, waits for
    // what this server wrote: once the read models move, it shows the invite.
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        held.rollback().await.unwrap();
    });
    let (status, body) = status_with(&visitor, &token, None).await;
    assert_eq!(
        (status, body["invitation"]["status"].clone()),
        (200, json!("pending")),
        "{body}"
    );
    release.await.unwrap();
}

#[tokio::test]
async fn a_token_unknown_to_this_replica_waits_for_the_log_before_it_is_refused() {
    let a = TestServer::start().await;
    let (b_app, _b_tasks) = crate::helpers::replica(&a.db, a.clock.clone(), &[]).await;
    let (b_addr, _b_serving) = crate::helpers::serve_http(b_app).await;
    let b = Client {
        http: reqwest::Client::new(),
        base: format!("http://{b_addr}"),
    };

    // Written on A while the read models stand still: B's view lacks it. B
    // did not write it, so only the miss tells B to wait for the log.
    let admin = a.admin().await;
    let held = stall_read_models(&a.db.url).await;
    let created = admin
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await;
    let token = created.ok()["message"].as_str().unwrap().to_string();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        held.rollback().await.unwrap();
    });
    let (status, body) = status_with(&b, &token, None).await;
    assert_eq!(
        (status, body["invitation"]["status"].clone()),
        (200, json!("pending")),
        "{body}"
    );
    release.await.unwrap();

    // A token no one made is still refused, once the read models are at the log's head.
    let (status, body) = status_with(&b, "no-such-token", None).await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!("INVALID_TOKEN"))
    );
}
