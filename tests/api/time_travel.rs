//! `as_of` answers are the state at that moment, folded from the log, and stay
//! so after later events were appended.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::helpers::ledger::{sign_up_with, user_id};
use crate::helpers::{Client, TestServer};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::Connection;

/// The database's clock, which stamps every event's `recorded_at`, and that
/// time encoded for a query string.
async fn db_now(server: &TestServer) -> (DateTime<Utc>, String) {
    tokio::time::sleep(Duration::from_millis(20)).await;
    let now: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
        .fetch_one(server.pool().await)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let encoded = url::form_urlencoded::byte_serialize(now.to_rfc3339().as_bytes()).collect();
    (now, encoded)
}

async fn get(client: &Client, path: &str) -> Value {
    client.get(path).await.ok()
}

/// The answer without what says when it was taken.
fn state(mut answer: Value) -> Value {
    let object = answer.as_object_mut().unwrap();
    object.remove("position");
    object.remove("asOf");
    object.remove("nextCursor");
    answer
}

#[tokio::test]
async fn as_of_answers_equal_the_state_at_that_time() {
    let server = TestServer::start().await;
    server.clock_to_real_time();
    let admin = server.admin().await;
    let admin_id = user_id(&admin).await;
    let (_, before_anything) = db_now(&server).await;

    admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "admin", "maxUses": 2 }),
        )
        .await
        .ok();
    let shared = admin
        .create_invite(json!({ "role": "admin", "maxUses": 2 }))
        .await;
    let other = admin.create_invite(json!({ "role": "user" })).await;
    // The invite behind `shared`.
    let info = server.client().invite_info(&shared).await.ok();
    let invite_id = info["invitation"]["id"].as_str().unwrap().to_string();

    // Moment 1: invites created, nobody signed up.
    let list_1 = get(&admin, "/api/ledger/invites").await;
    let invite_1 = get(&admin, &format!("/api/ledger/invites/{invite_id}")).await;
    let (_, t1) = db_now(&server).await;

    // Moment 2: `a` signed up through the invite, with its role.
    let (_, a_id) = sign_up_with(&server, &shared, "a@example.com").await;
    let invite_2 = get(&admin, &format!("/api/ledger/invites/{invite_id}")).await;
    let tree_2 = get(&admin, &format!("/api/ledger/users/{admin_id}/invitees")).await;
    let chain_2 = get(&admin, &format!("/api/ledger/users/{a_id}/inviter-chain")).await;
    let (t2_time, t2) = db_now(&server).await;

    // Later: the invite is used up, another cancelled, `a` demoted.
    sign_up_with(&server, &shared, "b@example.com").await;
    admin
        .post("/api/auth/invite/cancel", json!({ "token": other }))
        .await
        .ok();
    admin
        .post(
            "/api/auth/admin/set-role",
            json!({ "userId": a_id, "role": "user" }),
        )
        .await
        .ok();
    let now = get(&admin, &format!("/api/ledger/invites/{invite_id}")).await;
    assert_eq!(now["invite"]["status"], "used_up");
    assert_ne!(state(now), state(invite_2.clone()));

    let past = get(&admin, &format!("/api/ledger/invites?as_of={t1}")).await;
    assert_eq!(state(past.clone()), state(list_1));
    assert!(past["asOf"].is_string());
    let past = get(
        &admin,
        &format!("/api/ledger/invites/{invite_id}?as_of={t1}"),
    )
    .await;
    assert_eq!(state(past), state(invite_1));
    let past = get(
        &admin,
        &format!("/api/ledger/invites/{invite_id}?as_of={t2}"),
    )
    .await;
    assert_eq!(past["invite"]["uses"], 1);
    assert_eq!(state(past.clone()), state(invite_2));

    // The position is the last event recorded by then, in global order.
    let feed = get(&admin, "/api/ledger/events?limit=1000").await;
    let recorded_by_t2: Vec<&Value> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["recordedAt"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap()
                <= t2_time
        })
        .collect();
    assert_eq!(past["position"], recorded_by_t2.last().unwrap()["position"]);

    let past = get(
        &admin,
        &format!("/api/ledger/users/{admin_id}/invitees?as_of={t2}"),
    )
    .await;
    assert_eq!(state(past), state(tree_2));
    let past = get(
        &admin,
        &format!("/api/ledger/users/{a_id}/inviter-chain?as_of={t2}"),
    )
    .await;
    assert_eq!(past["user"]["role"], "admin", "the role `a` had then");
    assert_eq!(state(past), state(chain_2));
    let today = get(&admin, &format!("/api/ledger/users/{a_id}/inviter-chain")).await;
    assert_eq!(today["user"]["role"], "user");

    admin
        .get(&format!(
            "/api/ledger/invites/{invite_id}?as_of={before_anything}"
        ))
        .await
        .err(404, "INVITE_NOT_FOUND");
    admin
        .get(&format!("/api/ledger/users/{a_id}/invitees?as_of={t1}"))
        .await
        .err(404, "USER_NOT_FOUND");
    admin
        .get("/api/ledger/invites?as_of=last-tuesday")
        .await
        .err(400, "VALIDATION_ERROR");
}

/// A crowd of `as_of` requests stays within the server's pool; one that cannot
/// be answered in time is told to come back (503 `SERVICE_BUSY`), none fails.
#[tokio::test]
async fn a_crowd_of_as_of_requests_stays_within_its_connections() {
    const CROWD: usize = 24;
    // The server's pool and the watcher below.
    const MOST_BACKENDS: i64 = 20 + 1;
    let server = TestServer::start().await;
    let admin = server.admin().await;
    for _ in 0..5 {
        admin.create_invite(json!({ "role": "user" })).await;
    }
    let (_, at) = db_now(&server).await;

    let watching = Arc::new(AtomicBool::new(true));
    let watcher = {
        let (url, watching) = (server.db.url.clone(), watching.clone());
        tokio::spawn(async move {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            let mut peak = 0i64;
            while watching.load(Ordering::Relaxed) {
                let backends: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()",
                )
                .fetch_one(&mut conn)
                .await
                .unwrap();
                peak = peak.max(backends);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            peak
        })
    };
    let crowd: Vec<_> = (0..CROWD)
        .map(|_| {
            let (admin, path) = (admin.clone(), format!("/api/ledger/invites?as_of={at}"));
            tokio::spawn(async move { admin.get(&path).await })
        })
        .collect();
    let mut answered = 0;
    for request in crowd {
        let reply = request.await.unwrap();
        match reply.status.as_u16() {
            200 => answered += 1,
            503 => assert_eq!(reply.body["code"], "SERVICE_BUSY", "{:?}", reply.body),
            other => panic!("an as_of request got {other}: {:?}", reply.body),
        }
    }
    watching.store(false, Ordering::Relaxed);
    let peak = watcher.await.unwrap();
    assert!(answered > 0, "no as_of request was answered");
    assert!(
        peak <= MOST_BACKENDS,
        "{peak} connections to the database at once (at most {MOST_BACKENDS})"
    );
}

/// An invite past its `expiresAt` is expired in every audit answer (lists, the
/// status filter, one invite, `as_of`) before the sweeper records `Expired`.
#[tokio::test]
async fn expiry_is_worked_out_for_the_moment_asked() {
    // The sweeper stays away: nothing records the expiry during the test.
    let server = TestServer::start_with(&["--expiry-sweep-interval-ms", "3600000"]).await;
    server.clock_to_real_time();
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "user", "expiresIn": 2 }))
        .await;
    let info = server.client().invite_info(&token).await.ok();
    let id = info["invitation"]["id"].as_str().unwrap().to_string();
    let (_, while_open) = db_now(&server).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    server.clock_to_real_time();
    let (_, after_expiry) = db_now(&server).await;

    let now = get(&admin, &format!("/api/ledger/invites/{id}")).await;
    assert_eq!(now["invite"]["status"], "expired");
    let expired = get(&admin, "/api/ledger/invites?status=expired").await;
    assert_eq!(expired["invites"][0]["id"], id.as_str());
    let pending = get(&admin, "/api/ledger/invites?status=pending").await;
    assert_eq!(pending["invites"], json!([]));

    let then = get(
        &admin,
        &format!("/api/ledger/invites/{id}?as_of={while_open}"),
    )
    .await;
    assert_eq!(then["invite"]["status"], "pending");
    let then = get(
        &admin,
        &format!("/api/ledger/invites?as_of={while_open}&status=pending"),
    )
    .await;
    assert_eq!(then["invites"][0]["id"], id.as_str());
    let later = get(
        &admin,
        &format!("/api/ledger/invites/{id}?as_of={after_expiry}"),
    )
    .await;
    assert_eq!(later["invite"]["status"], "expired");
    let later = get(
        &admin,
        &format!("/api/ledger/invites?as_of={after_expiry}&status=expired"),
    )
    .await;
    assert_eq!(later["invites"][0]["id"], id.as_str());

    // The ledger has not recorded the expiry: the answers worked it out.
    let recorded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'Expired'")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
    assert_eq!(recorded, 0);
}

/// `as_of` at an invite's own `createdAt` (domain time) may precede the moment
/// the ledger recorded it: the 404 says which time was compared, and rows show
/// `recordedAt`.
#[tokio::test]
async fn rows_show_when_the_ledger_recorded_them() {
    let server = TestServer::start().await;
    server.clock_to_real_time();
    let admin = server.admin().await;
    let token = admin.create_invite(json!({ "role": "user" })).await;
    let info = server.client().invite_info(&token).await.ok();
    let id = info["invitation"]["id"].as_str().unwrap().to_string();
    let invite = get(&admin, &format!("/api/ledger/invites/{id}")).await;
    let recorded_at = invite["invite"]["recordedAt"].as_str().unwrap().to_string();
    let recorded: DateTime<Utc> = recorded_at.parse().unwrap();
    let just_before = recorded - chrono::Duration::milliseconds(1);
    let encoded: String =
        url::form_urlencoded::byte_serialize(just_before.to_rfc3339().as_bytes()).collect();
    let refused = admin
        .get(&format!("/api/ledger/invites/{id}?as_of={encoded}"))
        .await
        .err(404, "INVITE_NOT_FOUND");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("recorded") && message.contains(&recorded_at),
        "{message}"
    );
    // The time shown, copied as it is, finds the invite.
    let encoded: String = url::form_urlencoded::byte_serialize(recorded_at.as_bytes()).collect();
    let found = get(&admin, &format!("/api/ledger/invites/{id}?as_of={encoded}")).await;
    assert_eq!(found["invite"]["id"], id.as_str());
}
