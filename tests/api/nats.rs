//! The log on NATS JetStream: an independent consumer reads the stream and sees
//! every ledger event exactly once (by message id), in order per aggregate, as
//! CloudEvents without secrets, after the server is SIGKILLed mid-burst and after
//! NATS itself is restarted mid-burst.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::process::{Child, Command};

use crate::helpers::{Client, TestDb, TestServer, ADMIN_EMAIL, ADMIN_PASSWORD};

const BURST: usize = 60;
const DISRUPT_AFTER: usize = 30;
const SHARED_NATS: &str = "nats://127.0.0.1:4222";

/// A stream and subject prefix of one test's own, deleted when it ends.
struct Stream {
    url: String,
    name: String,
    prefix: String,
}

impl Stream {
    fn new(url: &str) -> Stream {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Stream {
            url: url.to_string(),
            name: format!("TEST_{id}"),
            prefix: format!("test-{id}"),
        }
    }

    fn args(&self) -> Vec<String> {
        vec![
            "--nats-url".into(),
            self.url.clone(),
            "--nats-stream".into(),
            self.name.clone(),
            "--nats-subject-prefix".into(),
            self.prefix.clone(),
            "--delivery-retry-base-ms".into(),
            "100".into(),
            "--delivery-timeout-ms".into(),
            "2000".into(),
            "--delivery-max-attempts".into(),
            "100".into(),
        ]
    }

    async fn context(&self) -> async_nats::jetstream::Context {
        async_nats::jetstream::new(async_nats::connect(self.url.as_str()).await.unwrap())
    }

    /// Every message in the stream, in stream order: (message id, subject, body).
    async fn messages(&self) -> Vec<(String, String, Value)> {
        let context = self.context().await;
        let Ok(stream) = context.get_stream(&self.name).await else {
            return Vec::new();
        };
        let info = stream.get_info().await.unwrap();
        let mut out = Vec::new();
        for sequence in info.state.first_sequence..=info.state.last_sequence {
            let Ok(message) = stream.get_raw_message(sequence).await else {
                continue;
            };
            let id = message
                .headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .map(|v| v.as_str().to_string())
                .unwrap_or_default();
            out.push((
                id,
                message.subject.to_string(),
                serde_json::from_slice(&message.payload).unwrap(),
            ));
        }
        out
    }

    /// Waits (up to 60 s) until the stream holds at least `count` messages.
    async fn wait_for(&self, count: usize) -> Vec<(String, String, Value)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let messages = self.messages().await;
            if messages.len() >= count || tokio::time::Instant::now() >= deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn delete(&self) {
        let _ = self.context().await.delete_stream(&self.name).await;
    }
}

/// The log's events after `after`: their positions, by aggregate (named as
/// readers see it) in log order.
async fn events_after(pool: &PgPool, after: i64) -> Vec<(i64, String)> {
    sqlx::query_as(&format!(
        "SELECT global_position, {} FROM events WHERE global_position > $1
          ORDER BY transaction_id, global_position",
        crate::helpers::READER_AGGREGATE_ID
    ))
    .bind(after)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn log_end(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT coalesce(max(global_position), 0) FROM events")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Every event after `after` is in the stream exactly once, with its position as
/// message id, as a CloudEvent on `<prefix>.<type>`, one aggregate's in log
/// order, and no message carries one of `secrets`.
async fn assert_published_exactly_once(
    stream: &Stream,
    pool: &PgPool,
    after: i64,
    secrets: &[String],
) {
    let events = events_after(pool, after).await;
    let messages = stream.wait_for(events.len()).await;
    let mut seen = HashSet::new();
    let duplicates: Vec<&String> = messages
        .iter()
        .map(|(id, _, _)| id)
        .filter(|id| !seen.insert(id.as_str()))
        .collect();
    assert!(duplicates.is_empty(), "published twice: {duplicates:?}");
    let wanted: HashSet<String> = events.iter().map(|(p, _)| p.to_string()).collect();
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|p| !seen.contains(p.as_str()))
        .collect();
    assert!(missing.is_empty(), "never published: {missing:?}");
    assert_eq!(messages.len(), events.len(), "nothing else was published");

    let mut by_aggregate: HashMap<String, Vec<i64>> = HashMap::new();
    for (id, subject, event) in &messages {
        assert_eq!(event["specversion"], "1.0", "{event}");
        assert_eq!(event["id"], id.as_str(), "{event}");
        assert_eq!(event["source"], "invite-ledger", "{event}");
        let data = &event["data"];
        assert_eq!(data["globalPosition"].to_string(), *id, "{event}");
        let kind = event["type"].as_str().unwrap();
        assert_eq!(
            *subject,
            format!(
                "{}.{}",
                stream.prefix,
                kind.trim_start_matches("invite-ledger.")
            ),
        );
        let text = event.to_string();
        assert!(
            secrets.iter().all(|s| !text.contains(s.as_str())),
            "a secret in {text}"
        );
        by_aggregate
            .entry(data["aggregateId"].as_str().unwrap().to_string())
            .or_default()
            .push(data["globalPosition"].as_i64().unwrap());
    }
    let mut in_log: HashMap<String, Vec<i64>> = HashMap::new();
    for (position, aggregate) in events {
        in_log.entry(aggregate).or_default().push(position);
    }
    assert_eq!(by_aggregate, in_log, "one aggregate's events in log order");
}

/// Creates `BURST` private invites, ten at a time, calling `disrupt` once
/// `DISRUPT_AFTER` have been acknowledged; returns the numbers that failed.
async fn burst<F: std::future::Future<Output = ()>>(admin: &Client, disrupt: F) -> Vec<usize> {
    let succeeded = Arc::new(AtomicUsize::new(0));
    let disruption = {
        let succeeded = succeeded.clone();
        async move {
            crate::helpers::poll_until(
                60,
                || succeeded.load(Ordering::SeqCst),
                |n| *n >= DISRUPT_AFTER,
            )
            .await;
            disrupt.await
        }
    };
    let creates = futures::stream::iter(0..BURST)
        .map(|i| {
            let succeeded = succeeded.clone();
            async move {
                let ok = create(admin, i).await;
                if ok {
                    succeeded.fetch_add(1, Ordering::SeqCst);
                }
                (i, ok)
            }
        })
        .buffer_unordered(10)
        .collect::<Vec<_>>();
    let (results, ()) = tokio::join!(creates, disruption);
    results
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(i, _)| i)
        .collect()
}

async fn create(admin: &Client, i: usize) -> bool {
    admin
        .http
        .post(format!("{}/api/auth/invite/create", admin.base))
        .json(&json!({ "role": "user", "email": format!("guest{i}@example.com") }))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
}

/// The server's executable running `args` on the test's database.
fn binary(db: &TestDb, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_invite-ledger"));
    command
        .args(args)
        .args(["--database-url", &db.url])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    command
}

async fn serve(db: &TestDb, port: u16, stream: &Stream) -> Child {
    let mut command = binary(db, &["serve", "--port", &port.to_string()]);
    command.args(stream.args());
    let child = command.spawn().unwrap();
    let health = format!("http://127.0.0.1:{port}/healthz");
    for _ in 0..600 {
        if reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

#[tokio::test]
async fn killing_the_server_mid_burst_publishes_every_event_exactly_once() {
    let stream = Stream::new(SHARED_NATS);
    let db = TestDb::new().await;
    let mut create_admin = binary(
        &db,
        &[
            "user",
            "create",
            "--email",
            ADMIN_EMAIL,
            "--password",
            ADMIN_PASSWORD,
            "--name",
            "Ada Admin",
            "--role",
            "admin",
        ],
    );
    assert!(create_admin.status().await.unwrap().success());
    let pool = crate::helpers::small_pool(&db.url).await.unwrap();
    let before = log_end(&pool).await;

    let port = crate::helpers::free_port();
    let mut server = serve(&db, port, &stream).await;
    let admin = Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap(),
        base: format!("http://127.0.0.1:{port}"),
    };
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.ok();
    let failed = burst(&admin, async {
        server.start_kill().unwrap();
        server.wait().await.unwrap();
    })
    .await;
    assert!(
        !failed.is_empty(),
        "the kill came in the middle of the burst"
    );
    let mut server = serve(&db, port, &stream).await;
    for i in failed {
        assert!(create(&admin, i).await, "invite {i} after the restart");
    }

    assert_published_exactly_once(&stream, &pool, before, &[]).await;
    stream.delete().await;
    pool.close().await;
    server.start_kill().unwrap();
    server.wait().await.unwrap();
}

/// A `nats-server` of the test's own on a free port, with its store in a
/// folder that outlives restarts and is removed at the end.
struct PrivateNats {
    port: u16,
    store: PathBuf,
    process: Option<Child>,
}

impl PrivateNats {
    async fn start() -> PrivateNats {
        let store = std::env::temp_dir().join(format!("nats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&store).unwrap();
        let mut nats = PrivateNats {
            port: crate::helpers::free_port(),
            store,
            process: None,
        };
        nats.run().await;
        nats
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    async fn run(&mut self) {
        let process = Command::new("/usr/sbin/nats-server")
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server is installed (see .ci/run)");
        self.process = Some(process);
        for _ in 0..500 {
            if async_nats::connect(self.url()).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("nats-server did not start");
    }

    /// SIGKILL, then the same server again on the same port and store.
    async fn restart(&mut self) {
        let mut process = self.process.take().unwrap();
        process.start_kill().unwrap();
        process.wait().await.unwrap();
        self.run().await;
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        if let Some(process) = &mut self.process {
            let _ = process.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

#[tokio::test]
async fn restarting_nats_mid_burst_publishes_every_event_exactly_once() {
    let mut nats = PrivateNats::start().await;
    let stream = Stream::new(&nats.url());
    let args = stream.args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The reactor starts at the log's end, here the empty log: the admin's
    // account, made after, is published too.
    let server = TestServer::start_with(&args).await;
    let before = 0;
    let admin = server.admin().await;
    // One public invite whose raw token must appear in no message.
    let token = admin.create_invite(json!({ "role": "user" })).await;

    let failed = burst(&admin, nats.restart()).await;
    assert!(
        failed.is_empty(),
        "a NATS restart fails no request: {failed:?}"
    );

    assert_published_exactly_once(&stream, server.pool().await, before, &[token]).await;
    stream.delete().await;
}

/// A stream keeps its messages beyond the service's reach (erasure cannot
/// delete them), so no email or name is published in readable form.
#[tokio::test]
async fn messages_carry_no_email_or_name_in_the_clear() {
    let stream = Stream::new(SHARED_NATS);
    let args = stream.args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = TestServer::start_with(&args).await;
    let admin = server.admin().await;
    let answer = admin
        .post(
            "/api/auth/invite/create-many",
            json!({ "invites": [
                { "email": "nell.periwinkle@example.com", "role": "user", "name": "Nell Periwinkle" }
            ]}),
        )
        .await
        .ok();
    assert_eq!(answer["created"], 1, "{answer}");
    let walker = server.client();
    walker
        .sign_up(
            "walker.thistlewood@example.com",
            "password1",
            "Walker Thistlewood",
        )
        .await
        .ok();
    let messages = stream.wait_for(3).await;
    let kinds: Vec<&str> = messages
        .iter()
        .filter_map(|(_, _, event)| event["type"].as_str())
        .collect();
    assert!(kinds.contains(&"invite-ledger.invite.created"), "{kinds:?}");
    assert!(
        kinds.contains(&"invite-ledger.user.registered"),
        "{kinds:?}"
    );
    for (_, _, event) in &messages {
        let text = event.to_string().to_lowercase();
        for personal in [
            "nell.periwinkle",
            "nell periwinkle",
            "walker.thistlewood",
            "walker thistlewood",
            "ada admin",
            "admin@example.com",
        ] {
            assert!(!text.contains(personal), "`{personal}` in {text}");
        }
    }
    stream.delete().await;
}
