//! The server binary as an operator runs it: SIGTERM drains the requests in
//! flight and exits 0; logs go to stderr, one JSON line per request with no token.

use std::process::Stdio;
use std::time::Duration;

use crate::helpers::TestDb;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

struct Served {
    child: Child,
    base: String,
}

/// `invite-ledger serve` on a free port, ready (its `/readyz` answers 200).
async fn serve(db: &TestDb, extra_env: &[(&str, &str)]) -> Served {
    let port = crate::helpers::free_port();
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
    assert_eq!(get.status(), 400, "an unknown token, as the plugin answers");
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
    assert_eq!(get[0]["fields"]["status"], 400);
    assert!(get[0]["fields"]["latency_ms"].is_number(), "{}", get[0]);
    assert_eq!(of("/api/auth/invite/{token}").len(), 1, "{log}");

    // Without SMTP_URL or MAIL_DIR, one warning at start-up says where emails go.
    let mail_warnings = log
        .lines()
        .filter(|line| line.contains("no SMTP_URL or MAIL_DIR"))
        .count();
    assert_eq!(mail_warnings, 1, "{log}");
}

/// What the rolling-restart load saw, shared by its clients and the switch.
#[derive(Default)]
struct Rotation {
    /// Where new requests go, as a proxy would send them.
    targets: Vec<String>,
    /// Requests that picked a server and have not connected to it yet.
    connecting: std::collections::HashMap<String, usize>,
    /// Per server: answers by status, and failures (connection errors).
    answered: std::collections::HashMap<String, Vec<Result<u16, String>>>,
}

/// One sign-up on a connection of its own to `base` (`host:port`), raw HTTP.
async fn raw_sign_up(
    rotation: &std::sync::Mutex<Rotation>,
    base: &str,
    i: usize,
) -> Result<u16, String> {
    use tokio::io::AsyncWriteExt;
    let connected = tokio::net::TcpStream::connect(base).await;
    *rotation.lock().unwrap().connecting.get_mut(base).unwrap() -= 1;
    let mut stream = connected.map_err(|e| format!("connect: {e}"))?;
    let body = json!({
        "email": format!("rolling{i}@example.com"),
        "password": "rolling-password",
        "name": "Rolling",
    })
    .to_string();
    let request = format!(
        "POST /api/auth/sign-up/email HTTP/1.1\r\nhost: {base}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .await
        .map_err(|e| format!("read: {e}"))?;
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no answer: {answer:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_load_loses_no_request() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    let db = TestDb::new().await;
    let quiet = [("RUST_LOG", "warn"), ("SHUTDOWN_GRACE_MS", "60000")];
    let old = serve(&db, &quiet).await;
    let old_addr = old.base.trim_start_matches("http://").to_string();
    let rotation = Arc::new(Mutex::new(Rotation {
        targets: vec![old_addr.clone()],
        ..Rotation::default()
    }));
    let answers_from = |addr: &str| {
        rotation
            .lock()
            .unwrap()
            .answered
            .get(addr)
            .map_or(0, Vec::len)
    };

    // Eight clients sign up in a loop, each request on a fresh connection to
    // whichever server the rotation names.
    let (stop, next) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut clients = Vec::new();
    for _ in 0..8 {
        let (rotation, stop, next) = (rotation.clone(), stop.clone(), next.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let target = {
                    let mut r = rotation.lock().unwrap();
                    let target = r.targets[i % r.targets.len()].clone();
                    *r.connecting.entry(target.clone()).or_default() += 1;
                    target
                };
                let outcome = raw_sign_up(&rotation, &target, i).await;
                let mut r = rotation.lock().unwrap();
                r.answered.entry(target).or_default().push(outcome);
            }
        }));
    }
    let wait_for = |addr: String, count: usize| {
        let answers_from = &answers_from;
        async move {
            let n = crate::helpers::poll_until(60, || answers_from(&addr), |n| *n >= count).await;
            assert!(n >= count, "{addr} gave {n} of {count} answers within 60 s");
        }
    };
    wait_for(old_addr.clone(), 20).await;

    // The new process starts beside the old one and joins the rotation.
    let new = serve(&db, &quiet).await;
    let new_addr = new.base.trim_start_matches("http://").to_string();
    rotation.lock().unwrap().targets = vec![old_addr.clone(), new_addr.clone()];
    wait_for(new_addr.clone(), 20).await;

    // The old one leaves the rotation and, as soon as no request is still on
    // its way to it, gets SIGTERM with requests in flight.
    rotation.lock().unwrap().targets = vec![new_addr.clone()];
    let on_its_way = crate::helpers::poll_until(
        60,
        || rotation.lock().unwrap().connecting.get(&old_addr).copied(),
        |n| *n == Some(0),
    )
    .await;
    assert_eq!(on_its_way, Some(0));
    let answered_before_stop = answers_from(&old_addr);
    send_signal(&old.child, "-TERM");
    let at_stop = answers_from(&new_addr);
    wait_for(new_addr.clone(), at_stop + 20).await;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.unwrap();
    }

    let (code, log) = exit_and_log(old).await;
    assert_eq!(code, Some(0), "{log}");
    let answers = rotation.lock().unwrap().answered.clone();
    println!(
        "{} requests were in flight on the old server when it got SIGTERM",
        answers[&old_addr].len() - answered_before_stop
    );
    let mut answered = 0;
    for (addr, outcomes) in &answers {
        let failed: Vec<_> = outcomes.iter().filter(|o| **o != Ok(200)).collect();
        assert!(failed.is_empty(), "{addr}: {failed:?}");
        answered += outcomes.len();
    }
    // Every answered sign-up was written, once. A write answers before the
    // read models fold it, so the new server's runners get a bounded moment.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let accounts = loop {
        let accounts: i64 =
            sqlx::query_scalar("SELECT count(*) FROM user_account WHERE email LIKE 'rolling%'")
                .fetch_one(&pool)
                .await
                .unwrap();
        if accounts >= answered as i64 || std::time::Instant::now() > deadline {
            break accounts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(accounts, answered as i64);
    pool.close().await;
    drop(new);
}
