//! An invite past its `expiresAt` is expired whether or not the sweeper has
//! recorded its `Expired` yet, and it reads closed then: `closedAt` is its
//! `expiresAt`, and `closed_from`/`closed_to` find it as `status=expired` does.

use chrono::Duration;
use serde_json::json;

use crate::helpers::TestServer;

#[tokio::test]
async fn an_invite_expired_by_time_reads_closed_at_its_expiry() {
    // No sweep during the test: the expiry is by time alone.
    let server = TestServer::start_with(&["--expiry-sweep-interval-ms", "3600000"]).await;
    let admin = server.admin().await;
    admin
        .create_invite(json!({ "role": "user", "expiresIn": 60 }))
        .await;
    server.clock.advance(Duration::seconds(61));

    let expired = admin.get("/api/ledger/invites?status=expired").await.ok();
    let invite = &expired["invites"][0];
    assert_eq!(invite["status"], "expired", "{expired}");
    assert_eq!(invite["closedAt"], invite["expiresAt"], "{expired}");

    let expires_at: chrono::DateTime<chrono::Utc> =
        invite["expiresAt"].as_str().unwrap().parse().unwrap();
    let q = |t: chrono::DateTime<chrono::Utc>| -> String {
        url::form_urlencoded::byte_serialize(t.to_rfc3339().as_bytes()).collect()
    };
    let found = admin
        .get(&format!(
            "/api/ledger/invites?closed_from={}&closed_to={}",
            q(expires_at - Duration::seconds(1)),
            q(expires_at + Duration::seconds(1))
        ))
        .await
        .ok();
    assert_eq!(found["invites"].as_array().unwrap().len(), 1, "{found}");

    let csv = admin
        .http
        .get(format!("{}/api/ledger/invites?format=csv", admin.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let closed_at = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "closedAt")
        .expect("a closedAt column");
    let row = reader.records().next().unwrap().unwrap();
    assert!(!row[closed_at].is_empty(), "{csv}");
}
