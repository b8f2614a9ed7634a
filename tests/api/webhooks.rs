//! Webhooks: every ledger event reaches a real HTTP receiver, signed as Standard
//! Webhooks, in order per invite; a failing endpoint is retried, then parked, and
//! `invite-ledger reactors retry` delivers what was parked.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::helpers::webhook_sink::{Hook, WebhookSink};
use crate::helpers::TestServer;
use crate::helpers::{invite_hash, invite_id_of};

const SECRET_BYTES: &[u8] = b"a webhook secret of 32 bytes!!!!";

fn secret() -> String {
    format!("whsec_{}", STANDARD.encode(SECRET_BYTES))
}

/// Checks the signature the way a receiver following the specification does.
fn verifies(hook: &Hook, key: &[u8]) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{}.{}.", hook.id, hook.timestamp).as_bytes());
    mac.update(&hook.body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    hook.signature
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

fn types(hooks: &[Hook]) -> Vec<String> {
    hooks
        .iter()
        .map(|h| h.json()["type"].as_str().unwrap().to_string())
        .collect()
}

async fn server_posting_to(sink: &WebhookSink, extra: &[&str]) -> TestServer {
    let url = sink.url();
    let secret = secret();
    let mut args = vec!["--webhook-url", &url, "--webhook-secret", &secret];
    args.extend_from_slice(extra);
    TestServer::start_with(&args).await
}

#[tokio::test]
async fn every_event_arrives_signed_and_in_order_per_invite() {
    let sink = WebhookSink::start().await;
    let server = server_posting_to(&sink, &[]).await;
    let admin = server.admin().await;
    let token = admin.create_invite(json!({ "role": "admin" })).await;
    let visitor = server.client();
    visitor.activate(&token).await.ok();
    visitor
        .sign_up("hooked@example.com", "password1", "Hooked")
        .await
        .ok();
    admin.invite_by_email("admin", "private@example.com").await;

    // Hooks name the invite by its id, as the audit API does.
    let invite = invite_id_of(server.pool().await, &token).await;
    let hooks = sink
        .wait_until(10, |_| sink.accepted_for(&invite).len() >= 3)
        .await;
    assert_eq!(
        types(&sink.accepted_for(&invite)),
        ["invite.created", "invite.activated", "invite.used"]
    );
    let used = sink.accepted_for(&invite)[2].json();
    // The body's `data` is the event as `/api/ledger/events` shows it: camelCase,
    // with its place in both forms.
    assert_eq!(used["data"]["aggregateType"], "invite");
    assert_eq!(used["data"]["sequence"], 3);
    assert_eq!(used["data"]["type"], "Used");
    assert_eq!(used["data"]["data"]["userEmail"], "hooked@example.com");
    assert_eq!(used["data"]["data"]["roleAfter"], "admin");
    let position = used["data"]["position"].as_str().unwrap();
    assert_eq!(
        position.split_once('/').unwrap().1,
        used["data"]["globalPosition"].to_string(),
        "{position}"
    );
    let timestamp = used["timestamp"].as_str().unwrap();
    assert!(
        timestamp.ends_with('Z') && timestamp.len() == "2026-03-01T09:00:00.000Z".len(),
        "{timestamp}"
    );
    let feed = admin
        .get(&format!(
            "/api/ledger/events?aggregate={}",
            used["data"]["aggregateId"].as_str().unwrap()
        ))
        .await
        .ok();
    assert_eq!(feed["events"][2], used["data"], "the feed's form");

    let now = chrono::Utc::now().timestamp();
    for hook in &hooks {
        assert!(verifies(hook, SECRET_BYTES), "signature of {hook:?}");
        assert!(!verifies(hook, b"another secret"), "a wrong key fails");
        assert_eq!(
            hook.id,
            format!("evt_{}", hook.json()["data"]["globalPosition"])
        );
        let sent_at: i64 = hook.timestamp.parse().unwrap();
        assert!((now - sent_at).abs() < 60, "timestamp {sent_at} vs {now}");
    }
    // A tampered body no longer verifies.
    let mut tampered = hooks[0].clone();
    tampered.body = tampered.body.slice(1..);
    assert!(!verifies(&tampered, SECRET_BYTES));

    // Users' events come too, with no secrets in any of them.
    let all = sink
        .wait_until(10, |h| {
            types(h).iter().filter(|t| *t == "invite.created").count() == 2
        })
        .await;
    let kinds = types(&all);
    assert!(kinds.contains(&"user.registered".to_string()), "{kinds:?}");
    for hook in &all {
        let body = String::from_utf8(hook.body.to_vec()).unwrap();
        assert!(!body.contains("password_hash"), "{body}");
        assert!(!body.contains("sealed_token"), "{body}");
        assert!(!body.contains("$argon2"), "{body}");
    }
}

/// The line of `invite-ledger reactors status` for `reactor`, as numbers:
/// lag, pending, parked, delivered.
fn status_of(output: &str, reactor: &str) -> [i64; 4] {
    let line = output
        .lines()
        .find(|l| l.split_whitespace().next() == Some(reactor))
        .unwrap_or_else(|| panic!("no {reactor} in:\n{output}"));
    let numbers: Vec<i64> = line
        .split_whitespace()
        .skip(2)
        .map(|n| n.parse().unwrap())
        .collect();
    numbers.try_into().unwrap()
}

async fn cli(server: &TestServer, args: &[&str]) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .args(args)
        .args(["--database-url", &server.db.url])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_then_parked_and_holds_back_only_its_invite() {
    let sink = WebhookSink::start().await;
    let server = server_posting_to(
        &sink,
        &[
            "--delivery-max-attempts",
            "3",
            "--delivery-retry-base-ms",
            "50",
        ],
    )
    .await;
    let admin = server.admin().await;

    // Every invite event fails until the first invite is known, then only its own.
    sink.fail_for("invite", true);
    let failing = admin.create_invite(json!({ "role": "user" })).await;
    let failing_id = invite_id_of(server.pool().await, &failing).await;
    // Deliveries are ordered by the log's key of the invite.
    let failing_key = format!("invite:{}", invite_hash(&failing));
    sink.wait_until(10, |h| h.iter().any(|h| h.status == 500))
        .await;
    sink.fail_for(&failing_id, true);
    sink.fail_for("invite", false);
    admin
        .post("/api/auth/invite/cancel", json!({ "token": failing }))
        .await
        .ok();
    let healthy = admin.create_invite(json!({ "role": "user" })).await;
    let healthy_id = invite_id_of(server.pool().await, &healthy).await;

    sink.wait_until(10, |_| !sink.accepted_for(&healthy_id).is_empty())
        .await;
    assert_eq!(types(&sink.accepted_for(&healthy_id)), ["invite.created"]);

    // Three attempts, each recorded with its error, then parked.
    let parked = async {
        loop {
            let status: Option<String> = sqlx::query_scalar(
                "SELECT status FROM reactor_delivery WHERE reactor = 'webhook' AND ordering_key = $1
                  ORDER BY id LIMIT 1",
            )
            .bind(&failing_key)
            .fetch_optional(server.pool().await)
            .await
            .unwrap();
            if status.as_deref() == Some("parked") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), parked)
        .await
        .expect("the failing delivery is parked");
    let attempts: Vec<(i32, String, Option<String>)> = sqlx::query_as(
        "SELECT a.attempt, a.outcome, a.error FROM reactor_attempt a
           JOIN reactor_delivery d ON d.id = a.delivery_id
          WHERE d.ordering_key = $1 ORDER BY a.id",
    )
    .bind(&failing_key)
    .fetch_all(server.pool().await)
    .await
    .unwrap();
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    for (n, (attempt, outcome, error)) in attempts.iter().enumerate() {
        assert_eq!(*attempt, n as i32 + 1);
        assert_eq!(outcome, "failed");
        assert!(error.as_deref().unwrap().contains("500"), "{error:?}");
    }
    let failed_posts = sink
        .hooks()
        .iter()
        .filter(|h| h.json()["data"]["aggregateId"] == failing_id.as_str())
        .count();
    assert_eq!(
        failed_posts, 3,
        "the cancellation waits behind the parked creation"
    );

    let (ok, status) = cli(&server, &["reactors", "status"]).await;
    assert!(ok, "{status}");
    let [_, pending, parked, _] = status_of(&status, "webhook");
    assert_eq!((pending, parked), (1, 1), "{status}");
    assert!(status.contains("HTTP 500"), "{status}");
    let [email_lag, _, email_parked, _] = status_of(&status, "email");
    assert_eq!((email_lag, email_parked), (0, 0), "{status}");

    // The endpoint recovers; an operator retries; both events go, in order.
    sink.fail_for(&failing_id, false);
    let (ok, retried) = cli(&server, &["reactors", "retry", "--all"]).await;
    assert!(ok, "{retried}");
    assert!(
        retried.contains("1 parked deliveries put back"),
        "{retried}"
    );
    sink.wait_until(10, |_| sink.accepted_for(&failing_id).len() >= 2)
        .await;
    assert_eq!(
        types(&sink.accepted_for(&failing_id)),
        ["invite.created", "invite.cancelled"]
    );
    let (_, status) = cli(&server, &["reactors", "status"]).await;
    let [_, pending, parked, _] = status_of(&status, "webhook");
    assert_eq!((pending, parked), (0, 0), "{status}");

    let (ok, nothing) = cli(&server, &["reactors", "retry", "999999"]).await;
    assert!(
        !ok,
        "retrying a delivery that is not parked fails: {nothing}"
    );
}

#[tokio::test]
async fn a_webhook_configured_later_starts_at_the_end_of_the_log() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let before = admin.create_invite(json!({ "role": "user" })).await;

    // A replica with a webhook joins: it posts what happens from now on, not the past.
    let sink = WebhookSink::start().await;
    let url = sink.url();
    let secret = secret();
    let (_replica, tasks) = crate::helpers::replica(
        &server.db,
        server.clock.clone(),
        &["--webhook-url", &url, "--webhook-secret", &secret],
    )
    .await;
    let after = admin.create_invite(json!({ "role": "user" })).await;
    let after_id = invite_id_of(server.pool().await, &after).await;
    sink.wait_until(10, |_| !sink.accepted_for(&after_id).is_empty())
        .await;
    assert_eq!(types(&sink.accepted_for(&after_id)), ["invite.created"]);
    let before_id = invite_id_of(server.pool().await, &before).await;
    assert!(
        sink.hooks()
            .iter()
            .all(|h| h.json()["data"]["aggregateId"] != before_id.as_str()
                && h.json()["type"] != "user.registered"),
        "nothing from before the webhook existed"
    );
    for task in tasks {
        task.abort();
    }
}
