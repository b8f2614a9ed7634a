//! The server binary as an operator runs it: SIGTERM drains the requests in
//! flight and exits 0; logs go to stderr, one JSON line per request with no token.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::TestDb;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

struct Served {
    child: Child,
    base: String,
}

/// `invite-ledger serve` on a free port, ready (its `/readyz` answers 200).
async fn serve(db: &TestDb, extra_env: &[(&str, &str)]) -> Served {
    let port = common::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("PORT", port.to_string())
        .env("BIND_ADDRESS", "127.0.0.1")
        .env("RUST_LOG", "info")
        .env("LOG_FORMAT", "json")
        .envs(extra_env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client.get(format!("{base}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not ready within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Served { child, base }
}

fn send_signal(child: &Child, signal: &str) {
    let pid = child.id().expect("still running").to_string();
    let status = std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits (bounded) for the process to exit; returns its exit code and stderr.
async fn exit_and_log(mut served: Served) -> (Option<i32>, String) {
    let mut stderr = served.child.stderr.take().unwrap();
    let mut log = String::new();
    let status = tokio::time::timeout(Duration::from_secs(30), async {
        stderr.read_to_string(&mut log).await.unwrap();
        served.child.wait().await.unwrap()
    })
    .await
    .expect("the server exits within 30 s");
    (status.code(), log)
}

fn sign_up(client: &reqwest::Client, base: &str, i: usize) -> reqwest::RequestBuilder {
    client
        .post(format!("{base}/api/auth/sign-up/email"))
        .json(&json!({
            "email": format!("drain{i}@example.com"),
            "password": "drain-password",
            "name": "Drain",
        }))
}

#[tokio::test]
async fn sigterm_answers_every_request_in_flight_then_exits_0() {
    let db = TestDb::new().await;
    // Slow hashing, so that sign-ups queue for the two hashing slots.
    let served = serve(
        &db,
        &[
            ("PASSWORD_HASH_MEMORY_KIB", "32768"),
            ("PASSWORD_HASH_ITERATIONS", "3"),
            ("SHUTDOWN_GRACE_MS", "60000"),
        ],
    )
    .await;
    const IN_FLIGHT: usize = 12;
    let client = reqwest::Client::new();
    let (answered, mut answers) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..IN_FLIGHT {
        let (request, answered) = (sign_up(&client, &served.base, i), answered.clone());
        tokio::spawn(async move {
            let _ = answered.send(request.send().await.map(|r| r.status().as_u16()));
        });
    }
    // The first answer: the others are sent and queued or running.
    let first = answers.recv().await.unwrap();
    send_signal(&served.child, "-TERM");
    let mut statuses = vec![first.map_err(|e| e.to_string())];
    for _ in 1..IN_FLIGHT {
        statuses.push(answers.recv().await.unwrap().map_err(|e| e.to_string()));
    }
    assert!(
        statuses.iter().all(|s| s == &Ok(200)),
        "every sign-up in flight is answered: {statuses:?}"
    );
    let base = served.base.clone();
    let (code, log) = exit_and_log(served).await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("SIGTERM"), "{log}");
    let refused = reqwest::get(format!("{base}/healthz")).await.unwrap_err();
    assert!(refused.is_connect(), "the port is closed: {refused}");

    // What was answered was written.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let accounts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM user_account WHERE email LIKE 'drain%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(accounts, IN_FLIGHT as i64);
    pool.close().await;
}

#[tokio::test]
async fn sigint_also_stops_it_cleanly() {
    let db = TestDb::new().await;
    let served = serve(&db, &[]).await;
    send_signal(&served.child, "-INT");
    let (code, log) = exit_and_log(served).await;
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("SIGINT"), "{log}");
}

/// The JSON log lines that report an answered request.
fn request_lines(log: &str) -> Vec<Value> {
    log.lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("every log line is JSON"))
        .filter(|line| line["fields"]["message"] == "answered")
        .collect()
}

#[tokio::test]
async fn one_json_log_line_per_request_with_its_route_and_no_token() {
    let db = TestDb::new().await;
    let served = serve(&db, &[]).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let secret = "SecretTokenNotForLogs123";
    let get = client
        .get(format!(
            "{}/api/auth/invite/get?token={secret}",
            served.base
        ))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 404);
    assert_eq!(get.headers()["x-request-id"], "trace-me-42");
    let link = client
        .get(format!("{}/api/auth/invite/{secret}", served.base))
        .send()
        .await
        .unwrap();
    assert!(link.headers().contains_key("x-request-id"));
    send_signal(&served.child, "-TERM");
    let (code, log) = exit_and_log(served).await;
    assert_eq!(code, Some(0), "{log}");

    assert!(!log.contains(secret), "a token reached the log: {log}");
    let lines = request_lines(&log);
    let of = |route: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|line| line["span"]["route"] == route)
            .collect()
    };
    let get = of("/api/auth/invite/get");
    assert_eq!(get.len(), 1, "{log}");
    assert_eq!(get[0]["level"], "INFO");
    assert_eq!(get[0]["span"]["method"], "GET");
    assert_eq!(get[0]["span"]["request_id"], "trace-me-42");
    assert_eq!(get[0]["fields"]["status"], 404);
    assert!(get[0]["fields"]["latency_ms"].is_number(), "{}", get[0]);
    assert_eq!(of("/api/auth/invite/{token}").len(), 1, "{log}");

    // Without SMTP_URL or MAIL_DIR, one warning at start-up says where emails go.
    let mail_warnings = log
        .lines()
        .filter(|line| line.contains("no SMTP_URL or MAIL_DIR"))
        .count();
    assert_eq!(mail_warnings, 1, "{log}");
}
