//! The expiry sweeper: invites past their time get their `Expired` event without
//! anyone touching them, once each, even with two replicas sweeping.

use std::time::Duration;

use chrono::Duration as Span;
use serde_json::json;

use crate::helpers::invite_hash;
use crate::helpers::TestServer;
use invite_ledger::clock::Clock;
use invite_ledger::reactors::sweep_expired;

const FAST_SWEEPS: [&str; 2] = ["--expiry-sweep-interval-ms", "50"];

async fn status_of(server: &TestServer, token: &str) -> String {
    sqlx::query_scalar("SELECT status FROM invite WHERE token_hash = $1")
        .bind(invite_hash(token))
        .fetch_one(server.pool().await)
        .await
        .unwrap()
}

async fn expired_events(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'Expired'")
        .fetch_one(server.pool().await)
        .await
        .unwrap()
}

/// Waits (up to 10 seconds) until `count` invites show as expired in the view.
async fn wait_for_expired_rows(server: &TestServer, count: i64) {
    for _ in 0..500 {
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM invite WHERE status = 'expired'")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
        if rows >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("fewer than {count} invites were expired in time");
}

#[tokio::test]
async fn the_sweeper_expires_invites_past_their_time_under_the_injected_clock() {
    let server = TestServer::start_with(&FAST_SWEEPS).await;
    let admin = server.admin().await;
    let mut short = Vec::new();
    for _ in 0..3 {
        short.push(
            admin
                .create_invite(json!({ "role": "user", "expiresIn": 60 }))
                .await,
        );
    }
    let long = admin
        .create_invite(json!({ "role": "user", "expiresIn": 3600 }))
        .await;
    let cancelled = admin
        .create_invite(json!({ "role": "user", "expiresIn": 60 }))
        .await;
    admin
        .post("/api/auth/invite/cancel", json!({ "token": cancelled }))
        .await
        .ok();

    // Sweeps run, but nothing is due yet.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(expired_events(&server).await, 0);
    assert_eq!(status_of(&server, &short[0]).await, "pending");

    server.clock.advance(Span::seconds(120));
    wait_for_expired_rows(&server, 3).await;
    for token in &short {
        assert_eq!(status_of(&server, token).await, "expired");
    }
    assert_eq!(status_of(&server, &long).await, "pending");
    assert_eq!(status_of(&server, &cancelled).await, "cancelled");
    let at: Vec<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT closed_at FROM invite WHERE status = 'expired'")
            .fetch_all(server.pool().await)
            .await
            .unwrap();
    assert!(
        at.iter().all(|t| *t == server.clock.now()),
        "expired at the clock's time: {at:?}"
    );
    assert_eq!(expired_events(&server).await, 3);

    // A second replica sweeps too; each invite still expires exactly once.
    let (replica, replica_tasks) =
        crate::helpers::replica(&server.db, server.clock.clone(), &FAST_SWEEPS).await;
    server.clock.advance(Span::hours(2));
    wait_for_expired_rows(&server, 4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status_of(&server, &long).await, "expired");
    assert_eq!(expired_events(&server).await, 4);
    assert_eq!(sweep_expired(&replica).await.unwrap(), 0, "nothing left");
    for task in replica_tasks {
        task.abort();
    }

    // Whoever touches an expired invite gets the expiry the view shows.
    server.client().activate(&short[0]).await.refused_because(
        400,
        "INVALID_OR_EXPIRED_INVITE",
        "INVITE_EXPIRED",
    );
    assert_eq!(expired_events(&server).await, 4);
}
