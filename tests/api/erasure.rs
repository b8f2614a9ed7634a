//! Erasure by crypto-shredding: after `user erase` (or its route), a person's
//! email and name are nowhere in the database or in any answer, the tree and
//! counts stay, a rebuild gives the same tables, and events written before
//! personal fields were sealed still load.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::process::Command;

use crate::helpers::webhook_sink::WebhookSink;
use crate::helpers::{every_row, invite_hash, Client, TestServer};
use invite_ledger::domain::user::user_id_for_email;

const CAROL_EMAIL: &str = "carolyn.quibble@example.com";
const CAROL_NAME: &str = "Carolyn Quibble";
const FRANK_EMAIL: &str = "frank.pending@example.com";

async fn cli(server: &TestServer, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .args(args)
        .env("DATABASE_URL", &server.db.url)
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// The database's clock (which stamps events), encoded for a query string.
async fn db_now(server: &TestServer) -> String {
    tokio::time::sleep(Duration::from_millis(20)).await;
    let now: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
        .fetch_one(server.pool().await)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    url::form_urlencoded::byte_serialize(now.to_rfc3339().as_bytes()).collect()
}

/// The object with this `id` anywhere in an answer.
fn node<'a>(value: &'a Value, id: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) if map.get("id").and_then(Value::as_str) == Some(id) => Some(value),
        Value::Object(map) => map.values().find_map(|v| node(v, id)),
        Value::Array(items) => items.iter().find_map(|v| node(v, id)),
        _ => None,
    }
}

fn assert_no_trace(what: &str, text: &str, secrets: &[&str]) {
    let lower = text.to_lowercase();
    for secret in secrets {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "{what} still holds `{secret}`: {text}"
        );
    }
}

/// Admin invites Carol privately (as an admin); Carol invites Dave. Returns
/// (Carol's client, Carol's id, Dave's id, the invite Carol signed up with).
async fn carol_and_her_invitee(server: &TestServer, admin: &Client) -> (Client, String, String) {
    let token = server.private_invite(admin, "admin", CAROL_EMAIL).await;
    let carol = server.client();
    carol.activate(&token).await.ok();
    let carol_id = carol
        .sign_up(CAROL_EMAIL, "password1", CAROL_NAME)
        .await
        .ok()["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dave_token = carol.create_invite(json!({ "role": "user" })).await;
    let dave = server.client();
    dave.activate(&dave_token).await.ok();
    let dave_id = dave
        .sign_up("dave.invitee@example.com", "password1", "Dave Invitee")
        .await
        .ok()["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Carol's own pending private invite: she is its inviter.
    carol
        .invite_by_email("user", "someone.else@example.com")
        .await;
    (carol, carol_id, dave_id)
}

#[tokio::test]
async fn an_erased_person_is_nowhere_and_the_tree_stays() {
    let sink = WebhookSink::start().await;
    let url = sink.url();
    let server = TestServer::start_with(&[
        "--webhook-url",
        &url,
        "--webhook-secret",
        "a webhook secret",
        "--delivery-retry-base-ms",
        "50",
        "--delivery-max-attempts",
        "1000",
    ])
    .await;
    server.clock_to_real_time();
    let admin = server.admin().await;
    let admin_id = admin.user_id().await;
    let carol_id_expected = user_id_for_email(CAROL_EMAIL);
    // Carol's account events reach the webhook only after her erasure.
    sink.fail_for(&carol_id_expected, true);
    let (carol, carol_id, dave_id) = carol_and_her_invitee(&server, &admin).await;
    assert_eq!(carol_id, carol_id_expected);
    let frank_token = server.private_invite(&admin, "user", FRANK_EMAIL).await;
    let carol_invite = admin
        .get(&format!("/api/ledger/users/{carol_id}"))
        .await
        .ok();
    assert_eq!(carol_invite["email"], CAROL_EMAIL);
    let before = db_now(&server).await;
    sink.wait_until(10, |h| h.iter().any(|h| h.status == 500))
        .await;

    // Only an admin's session erases; unknown people are a 404.
    let nosy = server.user_with_role("nosy@example.com", "user").await;
    nosy.post(&format!("/api/ledger/users/{dave_id}/erase"), json!({}))
        .await
        .err(403, "INSUFFICIENT_PERMISSIONS");
    admin
        .post("/api/ledger/users/no-such-person/erase", json!({}))
        .await
        .err(404, "USER_NOT_FOUND");
    let erased = admin
        .post(&format!("/api/ledger/users/{carol_id}/erase"), json!({}))
        .await
        .ok();
    assert_eq!(erased["userId"], carol_id.as_str());
    assert_eq!(erased["alreadyErased"], false);
    assert!(erased["position"].is_string(), "{erased}");
    let again = admin
        .post(&format!("/api/ledger/users/{carol_id}/erase"), json!({}))
        .await
        .ok();
    assert_eq!(again["alreadyErased"], true, "{again}");
    // The feed knows the event type: it can be asked for by name.
    let feed = admin.get("/api/ledger/events?type=Erased").await.ok();
    let types: Vec<&Value> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["type"])
        .collect();
    assert_eq!(types, [&json!("Erased")], "{feed}");
    // Frank, invited but without an account, by email from the command line.
    let (ok, out) = cli(&server, &["user", "erase", FRANK_EMAIL]).await;
    assert!(ok && out.contains("erased user"), "{out}");
    let (ok, out) = cli(&server, &["user", "erase", FRANK_EMAIL]).await;
    assert!(ok && out.contains("erased already"), "{out}");
    let erasures: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'Erased'")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
    assert_eq!(erasures, 2, "one event per person, however often asked");

    // Carol is signed out: her session went with her.
    carol.get("/api/auth/get-session").await;
    assert!(carol.session().await.is_null() || carol.session().await["user"].is_null());

    // Frank's invite asked for again: the email is not sent to an erased person.
    admin
        .post("/api/auth/invite/resend", json!({ "token": frank_token }))
        .await
        .ok();
    crate::helpers::eventually(
        10,
        || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM reactor_delivery
                  WHERE reactor = 'email' AND status = 'pending'",
            )
            .fetch_one(server.pool().await)
            .await
            .unwrap()
        },
        |pending| *pending == 0,
    )
    .await;
    assert_eq!(server.mailer.wait_for(FRANK_EMAIL, 1).await.len(), 1);

    // The webhook sent after the erasure says `[erased]`.
    sink.fail_for(&carol_id, false);
    let hooks = sink
        .wait_until(20, |_| !sink.accepted_for(&carol_id).is_empty())
        .await;
    let carol_hooks: Vec<String> = sink
        .accepted_for(&carol_id)
        .iter()
        .map(|h| String::from_utf8_lossy(&h.body).to_string())
        .collect();
    assert!(
        carol_hooks.iter().any(|b| b.contains("[erased]")),
        "{carol_hooks:?}"
    );
    for body in &carol_hooks {
        assert_no_trace("a webhook", body, &[CAROL_EMAIL, CAROL_NAME]);
    }
    drop(hooks);

    // The tree and the counts stay; Carol reads `[erased]` wherever she shows.
    let chain = admin
        .get(&format!("/api/ledger/users/{dave_id}/inviter-chain"))
        .await
        .ok();
    let carol_node = node(&chain, &carol_id).unwrap_or_else(|| panic!("{chain}"));
    assert_eq!(carol_node["email"], "[erased]", "{chain}");
    assert_eq!(carol_node["name"], "[erased]", "{chain}");
    assert!(node(&chain, &admin_id).is_some(), "{chain}");
    let profile = admin
        .get(&format!("/api/ledger/users/{dave_id}"))
        .await
        .ok();
    assert_eq!(profile["invitedBy"], carol_id.as_str(), "{profile}");
    let invites = admin.get("/api/ledger/invites").await.ok();
    let by_carol: Vec<&Value> = invites["invites"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["inviterId"] == carol_id.as_str())
        .collect();
    assert_eq!(by_carol.len(), 2, "{invites}");
    assert!(by_carol
        .iter()
        .all(|i| i["inviterName"] == "[erased]" && i["inviterEmail"] == "[erased]"));

    // Every answer, `as_of` before the erasure included, and every exported row.
    let encoded_email: String =
        url::form_urlencoded::byte_serialize(CAROL_EMAIL.as_bytes()).collect();
    let mut answers = Vec::new();
    for path in [
        "/api/ledger/invites".to_string(),
        format!("/api/ledger/invites?as_of={before}"),
        "/api/ledger/invites?format=csv".to_string(),
        "/api/ledger/invites?format=ndjson".to_string(),
        "/api/ledger/uses".to_string(),
        format!("/api/ledger/uses?as_of={before}"),
        "/api/ledger/uses?format=csv".to_string(),
        format!("/api/ledger/users/{carol_id}"),
        format!("/api/ledger/users/{dave_id}"),
        format!("/api/ledger/users?email={encoded_email}"),
        format!("/api/ledger/users/{admin_id}/invitees?depth=5"),
        format!("/api/ledger/users/{admin_id}/invitees?depth=5&as_of={before}"),
        format!("/api/ledger/users/{dave_id}/inviter-chain?as_of={before}"),
        "/api/ledger/events?limit=1000".to_string(),
        "/api/ledger/events?format=csv".to_string(),
        "/api/ledger/events?format=ndjson".to_string(),
        format!("/api/ledger/diff?from=2000-01-01T00:00:00Z&to={before}"),
    ] {
        let reply = admin.get(&path).await;
        assert!(reply.status.as_u16() < 500, "{path}: {}", reply.body);
        answers.push((path, reply.body.to_string()));
    }
    for invite in invites["invites"].as_array().unwrap() {
        let id = invite["id"].as_str().unwrap();
        for path in [
            format!("/api/ledger/invites/{id}"),
            format!("/api/ledger/invites/{id}?as_of={before}"),
            format!("/api/ledger/invites/{id}/events"),
        ] {
            answers.push((path.clone(), admin.get(&path).await.ok().to_string()));
        }
    }
    for (path, body) in &answers {
        assert_no_trace(path, body, &[CAROL_EMAIL, CAROL_NAME, FRANK_EMAIL]);
    }
    let as_of_invites = &answers[1].1;
    assert!(as_of_invites.contains("[erased]"), "{as_of_invites}");

    // Every row of every table of the database.
    for (table, row) in every_row(&server).await {
        assert_no_trace(&table, &row, &[CAROL_EMAIL, CAROL_NAME, FRANK_EMAIL]);
    }

    // A rebuild, which can no longer open Carol's fields, gives the same tables.
    let tables = crate::helpers::read_models(server.pool().await, true).await;
    let (ok, out) = cli(&server, &["projections", "rebuild"]).await;
    assert!(ok, "{out}");
    assert_eq!(
        tables,
        crate::helpers::read_models(server.pool().await, true).await
    );

    // The email may be invited again: a new person, readable as before.
    server.private_invite(&admin, "user", CAROL_EMAIL).await;
    let invites = admin.get("/api/ledger/invites").await.ok().to_string();
    assert!(invites.contains(CAROL_EMAIL), "{invites}");
}

/// A `Registered` and a private invite's `Created` as they were written
/// before personal fields were sealed: event version 1, plain text.
async fn insert_version_one_events(pool: &PgPool, admin_id: &str, token: &str) -> String {
    let old_id = user_id_for_email("old.timer@example.com");
    let registered = json!({ "Registered": {
        "email": "old.timer@example.com", "name": "Old Timer",
        "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA",
        "role": "user", "at": "2026-01-02T03:04:05.678Z"
    }});
    let created = json!({ "Created": {
        "terms": {
            "invite_id": "0b8f6f8e-6d6c-4f7e-9a43-2f1d1e0c9b01", "token_type": "token",
            "role": "user", "email": "legacy.invitee@example.com", "new_account": true,
            "max_uses": 1, "expires_at": "2099-01-01T00:00:00Z",
            "redirect_to_sign_up": "/auth/sign-up", "redirect_to_sign_in": "/auth/sign-in",
            "redirect_to_after_upgrade": "/auth/invited", "share_inviter_name": true,
            "sender_response_redirect": "signUp"
        },
        "inviter_id": admin_id, "inviter_name": "Admin", "inviter_email": "admin@example.com",
        "inviter_role": "admin", "at": "2026-01-02T03:04:06Z"
    }});
    for (aggregate_type, aggregate_id, event_type, payload) in [
        ("user", old_id.clone(), "Registered", registered),
        ("invite", invite_hash(token), "Created", created),
    ] {
        sqlx::query(
            "INSERT INTO events
                (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ($1, $2, 1, $3, '1', $4, '{}')",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(event_type)
        .bind(payload)
        .execute(pool)
        .await
        .unwrap();
    }
    old_id
}

#[tokio::test]
async fn events_written_before_sealing_load_and_hide_once_erased() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = admin.user_id().await;
    let token = "legacy-token-0123456789";
    let old_id = insert_version_one_events(server.pool().await, &admin_id, token).await;

    // The folds read them (the runner follows the log; the invite was last)...
    let invite = crate::helpers::eventually(
        10,
        || admin.get("/api/ledger/invites/0b8f6f8e-6d6c-4f7e-9a43-2f1d1e0c9b01"),
        |reply| reply.status == 200,
    )
    .await
    .ok();
    let user = admin.get(&format!("/api/ledger/users/{old_id}")).await.ok();
    assert_eq!(user["email"], "old.timer@example.com");
    assert_eq!(user["name"], "Old Timer");
    assert_eq!(
        invite["invite"]["email"], "legacy.invitee@example.com",
        "{invite}"
    );
    // ...so does the feed...
    let feed = admin.get("/api/ledger/events?type=Registered").await.ok();
    assert!(feed.to_string().contains("Old Timer"), "{feed}");
    // ...and the aggregate, which decides on them.
    admin.cancel(token).await.ok();

    // The log cannot be rewritten, but an erased person's plain fields read
    // `[erased]` like sealed ones.
    admin
        .post(&format!("/api/ledger/users/{old_id}/erase"), json!({}))
        .await
        .ok();
    let user = admin.get(&format!("/api/ledger/users/{old_id}")).await.ok();
    assert_eq!(
        (&user["email"], &user["name"]),
        (&json!("[erased]"), &json!("[erased]"))
    );
    let feed = admin
        .get("/api/ledger/events?limit=1000")
        .await
        .ok()
        .to_string();
    assert_no_trace("the feed", &feed, &["old.timer@example.com", "Old Timer"]);
    let legacy: String = sqlx::query_scalar(
        "SELECT payload::text FROM events WHERE event_type = 'Registered' AND event_version = '1'",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert!(legacy.contains("Old Timer"), "the log is not rewritten");

    let tables = crate::helpers::read_models(server.pool().await, true).await;
    let (ok, out) = cli(&server, &["projections", "rebuild"]).await;
    assert!(ok, "{out}");
    assert_eq!(
        tables,
        crate::helpers::read_models(server.pool().await, true).await
    );
}
