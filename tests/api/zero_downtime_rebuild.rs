//! A projection whose SQL version changed is rebuilt at startup beside the live
//! tables: reads keep answering from the old tables until the swap, then see the
//! new ones, and events appended during the rebuild are not lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::helpers::{synthetic, CapturingMailer, TestServer};
use invite_ledger::app::App;
use invite_ledger::clock::SystemClock;
use invite_ledger::projections;
use serde_json::json;

async fn stored_version(server: &TestServer, name: &str) -> String {
    sqlx::query_scalar("SELECT version FROM projection_checkpoint WHERE name = $1")
        .bind(name)
        .fetch_one(server.pool_now())
        .await
        .unwrap()
}

async fn wait_caught_up(server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let statuses = projections::status(server.pool_now(), &projections::all())
            .await
            .unwrap();
        if statuses.iter().all(|s| s.lag == 0) {
            return;
        }
        assert!(Instant::now() < deadline, "projections never caught up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_version_bump_rebuilds_while_reads_keep_answering() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin.create_invite(json!({ "role": "user" })).await;
    synthetic::append_cycles(server.pool_now(), 1, 10_000).await;
    wait_caught_up(&server).await;

    // The live tables as an older version of the SQL built them: marked so that
    // a reader can tell them from the rebuilt ones.
    sqlx::query("UPDATE invite SET inviter_name = 'Built By The Old Version'")
        .execute(server.pool_now())
        .await
        .unwrap();
    sqlx::query("UPDATE projection_checkpoint SET version = 'old' WHERE name = 'invite'")
        .execute(server.pool_now())
        .await
        .unwrap();

    // Readers ask for the invite without pause, through the running server.
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let client = server.client();
        let token = token.clone();
        let stop = stop.clone();
        readers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let reply = client.invite_info(&token).await;
                assert_eq!(reply.status, 200, "a read failed: {}", reply.body);
                seen.push(reply.body["inviter"]["name"].as_str().unwrap().to_string());
            }
            seen
        }));
    }

    // A new server starts with the current SQL: it rebuilds in the background.
    let settings = crate::helpers::config(&server.db, &[]).settings().unwrap();
    let (_second, tasks) = App::start(
        settings,
        Arc::new(SystemClock),
        Arc::new(CapturingMailer::default()),
    )
    .await
    .expect("the second server starts at once, before the rebuild ends");
    // Events keep arriving during the rebuild.
    synthetic::append_cycles(server.pool_now(), 10_001, 10_050).await;

    let current = projections::all()
        .into_iter()
        .find(|p| p.name() == "invite")
        .unwrap()
        .version();
    let deadline = Instant::now() + Duration::from_secs(120);
    while stored_version(&server, "invite").await != current {
        assert!(Instant::now() < deadline, "the rebuild never swapped in");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let readers see the new tables for a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);

    for reader in readers {
        let seen = reader.await.unwrap();
        let old = seen
            .iter()
            .take_while(|n| *n == "Built By The Old Version")
            .count();
        assert!(old > 0, "no read was served from the old tables");
        assert!(
            seen[old..].iter().all(|n| n == "Ada Admin"),
            "after the swap, only the rebuilt rows: {:?}",
            &seen[old..]
        );
        assert!(old < seen.len(), "no read saw the rebuilt tables");
    }

    // Nothing appended during the rebuild was lost, nothing applied twice.
    wait_caught_up(&server).await;
    let (invites, used): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status = 'used_up' AND uses = 1) FROM invite",
    )
    .fetch_one(server.pool_now())
    .await
    .unwrap();
    assert_eq!((invites, used), (10_051, 10_050));
    let scratch: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'projection_rebuild_%'",
    )
    .fetch_one(server.pool_now())
    .await
    .unwrap();
    assert_eq!(scratch, 0, "the scratch schema is gone");
    for task in tasks {
        task.abort();
    }
}
