//! At least once, across a crash: the real server is SIGKILLed in the middle of
//! a burst of 100 private invites, while its SMTP server struggles (slow, then
//! "try again later"), so no email has gone out and some are mid-attempt. After a
//! restart every invite's email arrives (duplicates allowed).

use std::collections::HashSet;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::smtp_sink::SmtpSink;
use crate::helpers::{invite_hash, Client, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

const INVITES: usize = 100;
const KILL_AFTER: usize = 50;

fn binary(db: &TestDb, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_invite-ledger"));
    command
        .args(args)
        .args(["--database-url", &db.url])
        .args([
            "--password-hash-memory-kib",
            "64",
            "--password-hash-iterations",
            "1",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    command
}

async fn serve(db: &TestDb, port: u16, sink: &SmtpSink) -> Child {
    let port = port.to_string();
    let smtp = sink.url();
    let child = binary(
        db,
        &[
            "serve",
            "--port",
            &port,
            "--smtp-url",
            &smtp,
            "--delivery-timeout-ms",
            "1000",
            "--delivery-retry-base-ms",
            "100",
            "--delivery-max-attempts",
            "100",
        ],
    )
    .spawn()
    .unwrap();
    let health = format!("http://127.0.0.1:{port}/healthz");
    for _ in 0..300 {
        if reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

fn guest(i: usize) -> String {
    format!("guest{i}@example.com")
}

async fn invite(admin: &Client, i: usize) -> bool {
    let sent = admin
        .http
        .post(format!("{}/api/auth/invite/create", admin.base))
        .json(&json!({ "role": "user", "email": guest(i) }))
        .send()
        .await;
    sent.is_ok_and(|r| r.status() == 200)
}

#[tokio::test]
async fn killing_the_server_mid_burst_loses_no_invitation_email() {
    let db = TestDb::new().await;
    let sink = SmtpSink::start().await;
    let created = binary(
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
    )
    .status()
    .await
    .unwrap();
    assert!(created.success());

    let port = crate::helpers::free_port();
    // The SMTP server struggles: emails are mid-attempt or waiting when the kill comes.
    sink.struggle(true);
    let mut server = serve(&db, port, &sink).await;
    let admin = Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap(),
        base: format!("http://127.0.0.1:{port}"),
    };
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.ok();

    // The burst: ten at a time; the server dies after the 50th success.
    let succeeded = Arc::new(AtomicUsize::new(0));
    let killer = {
        let succeeded = succeeded.clone();
        async move {
            while succeeded.load(Ordering::SeqCst) < KILL_AFTER {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            server.start_kill().unwrap();
            server.wait().await.unwrap();
        }
    };
    let burst = futures::stream::iter(0..INVITES)
        .map(|i| {
            let (admin, succeeded) = (&admin, succeeded.clone());
            async move {
                let ok = invite(admin, i).await;
                if ok {
                    succeeded.fetch_add(1, Ordering::SeqCst);
                }
                (i, ok)
            }
        })
        .buffer_unordered(10)
        .collect::<Vec<_>>();
    let (results, ()) = tokio::join!(burst, killer);
    let failed: Vec<usize> = results
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(i, _)| *i)
        .collect();
    assert!(
        !failed.is_empty(),
        "the kill came in the middle of the burst"
    );
    assert!(
        sink.received().is_empty(),
        "no email was accepted before the kill"
    );

    // Restart; the SMTP server recovers; the invites that got no answer are made again.
    sink.struggle(false);
    let restarted = std::time::Instant::now();
    let mut server = serve(&db, port, &sink).await;
    for i in failed {
        assert!(invite(&admin, i).await, "invite {i} after the restart");
    }

    let everyone: HashSet<String> = (0..INVITES).map(guest).collect();
    let received = sink
        .wait_until(60, |r| {
            let reached: HashSet<String> = r.iter().flat_map(|m| m.to.clone()).collect();
            everyone.is_subset(&reached)
        })
        .await;
    let reached: HashSet<String> = received.iter().flat_map(|m| m.to.clone()).collect();
    let missing: Vec<_> = everyone.difference(&reached).collect();
    assert!(missing.is_empty(), "no email reached {missing:?}");

    // Every email is a real invitation for its recipient.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    for email in &received {
        let text = email.message().body_text(0).unwrap().to_string();
        let code = text
            .lines()
            .find_map(|l| l.strip_prefix("Or use this code: "))
            .unwrap()
            .trim()
            .to_string();
        let invited: String = sqlx::query_scalar("SELECT email FROM invite WHERE token_hash = $1")
            .bind(invite_hash(&code))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!([invited], email.to.as_slice());
    }
    println!(
        "{} emails reached the {} addresses {:.1?} after the restart (some invites were made \
         twice: their first request got no answer)",
        received.len(),
        INVITES,
        restarted.elapsed(),
    );
    pool.close().await;
    server.start_kill().unwrap();
    server.wait().await.unwrap();
}
