//! When the database is out of reach, requests answer 503 with `Retry-After`
//! (not 500), and `/readyz` tolerates the small lag of a busy, healthy server.

use crate::helpers::{synthetic, TestServer};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

#[tokio::test]
async fn an_unreachable_database_is_503_with_retry_after() {
    let server = TestServer::start().await;
    let admin = server.bearer_client(&server.admin_token().await);
    server.pool().await.close().await;
    for reply in [
        server
            .client()
            .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
            .await,
        admin
            .post("/api/auth/invite/create", json!({ "role": "user" }))
            .await,
        server.client().invite_info("abcdef").await,
    ] {
        assert!(reply.headers.contains_key("retry-after"), "{}", reply.body);
        reply.err(503, "SERVICE_UNAVAILABLE");
    }
    let ready = server.client().get("/readyz").await;
    assert_eq!(ready.status, 503);
    assert!(ready.headers.contains_key("retry-after"));
}

/// The advisory-lock key of a projection's runner (as `src/projections` makes it).
fn lock_key(name: &str) -> i64 {
    let digest = Sha256::digest(format!("invite-ledger projection {name}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().unwrap())
}

#[tokio::test]
async fn readiness_allows_lag_up_to_the_threshold() {
    for (max_lag, ready) in [("1000", true), ("2", false)] {
        let server = TestServer::start_with(&["--ready-max-lag", max_lag]).await;
        // Hold the `invite` runner back, as a busy moment does, and append 4 events.
        let mut holder = PgConnection::connect(&server.db.url).await.unwrap();
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(lock_key("invite"))
            .execute(&mut holder)
            .await
            .unwrap();
        synthetic::append_cycles(server.pool().await, 1, 1).await;
        let reply = server.client().get("/readyz").await;
        let lag = reply.body["projections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "invite")
            .unwrap()["lag"]
            .as_i64()
            .unwrap();
        assert!(lag > 0, "the invite runner is held back: {}", reply.body);
        assert_eq!(reply.body["caughtUp"], ready, "{}", reply.body);
        assert_eq!(reply.status.is_success(), ready, "max lag {max_lag}");
        holder.close().await.unwrap();
    }
}
