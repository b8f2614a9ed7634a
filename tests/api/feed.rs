//! The event feed and its Server-Sent Events twin: the log in global order,
//! every event exactly once, resumable from the last position seen.

use std::time::Duration;

use crate::helpers::TestServer;
use serde_json::{json, Value};

/// Positions of the whole log in global order, straight from the database.
async fn log_positions(server: &TestServer) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT transaction_id::text || '/' || global_position FROM events
          ORDER BY transaction_id, global_position",
    )
    .fetch_all(server.pool().await)
    .await
    .unwrap()
}

async fn some_history(server: &TestServer, round: usize) {
    let admin = server.admin().await;
    for i in 0..3 {
        let token = admin.create_invite(json!({ "role": "user" })).await;
        let visitor = server.client();
        visitor.activate(&token).await.ok();
        visitor
            .sign_up(&format!("r{round}v{i}@example.com"), "password1", "Visitor")
            .await
            .ok();
    }
}

#[tokio::test]
async fn the_feed_pages_through_the_log_in_global_order() {
    let server = TestServer::start().await;
    some_history(&server, 0).await;
    let admin = server.admin().await;
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let page = admin
            .get(&format!("/api/ledger/events?limit=4&after={after}"))
            .await
            .ok();
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            assert_eq!(page["next"], after.as_str(), "nothing new: same place");
            break;
        }
        assert!(events.len() <= 4);
        seen.extend(
            events
                .iter()
                .map(|e| e["position"].as_str().unwrap().to_string()),
        );
        after = page["next"].as_str().unwrap().to_string();
    }
    assert_eq!(seen, log_positions(&server).await);

    let page = admin.get("/api/ledger/events?limit=1000").await.ok();
    let registered = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "Registered")
        .unwrap();
    assert!(registered["data"]["email"].is_string());
    assert!(
        registered["data"].get("passwordHash").is_none()
            && registered["data"].get("password_hash").is_none(),
        "no password hashes"
    );

    // One dialect: the number an event calls `globalPosition` is a place to
    // start after, as its `position` is; a number no event has is refused.
    let third = &page["events"][2];
    let by_number = admin
        .get(&format!(
            "/api/ledger/events?after={}",
            third["globalPosition"]
        ))
        .await
        .ok();
    let by_position = admin
        .get(&format!(
            "/api/ledger/events?after={}",
            third["position"].as_str().unwrap()
        ))
        .await
        .ok();
    assert_eq!(by_number, by_position);
    assert_eq!(by_number["events"][0], page["events"][3]);
    admin
        .get("/api/ledger/events?after=999999")
        .await
        .err(400, "INVALID_POSITION");

    // ...and camelCase keys everywhere, in events' data as in /readyz.
    fn snake_keys(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    if key.contains('_') {
                        found.push(key.clone());
                    }
                    snake_keys(value, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| snake_keys(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    snake_keys(&page, &mut found);
    let ready = server.client().get("/readyz").await.ok();
    snake_keys(&ready, &mut found);
    assert!(found.is_empty(), "snake_case keys: {found:?}");
}

/// Reads SSE frames until `count` events arrived; returns their ids and data.
async fn read_events(response: &mut reqwest::Response, count: usize) -> Vec<(String, Value)> {
    let mut events = Vec::new();
    let mut buffer = String::new();
    while events.len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(20), response.chunk())
            .await
            .expect("the stream delivers in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let mut id = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().to_string());
                }
                if let Some(v) = line.strip_prefix("data:") {
                    data = Some(serde_json::from_str(v.trim()).unwrap());
                }
            }
            if let (Some(id), Some(data)) = (id, data) {
                events.push((id, data));
            }
        }
    }
    events
}

#[tokio::test]
async fn a_follower_that_reconnects_gets_every_event_once_in_order() {
    let server = TestServer::start().await;
    some_history(&server, 0).await;
    let admin = server.admin().await;
    let url = format!("{}/api/ledger/events/stream", admin.base);

    let mut first = admin.http.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(first.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut received = read_events(&mut first, 5).await;
    drop(first);

    // Events keep coming while the follower is away...
    some_history(&server, 1).await;
    let last_id = received.last().unwrap().0.clone();
    let mut second = admin
        .http
        .get(&url)
        .header("last-event-id", &last_id)
        .send()
        .await
        .unwrap();
    let total = log_positions(&server).await.len();
    received.extend(read_events(&mut second, total - received.len()).await);

    // ...and while it is connected, live.
    some_history(&server, 2).await;
    let total = log_positions(&server).await.len();
    received.extend(read_events(&mut second, total - received.len()).await);

    let ids: Vec<String> = received.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        ids,
        log_positions(&server).await,
        "every event once, in order"
    );
    assert!(received
        .iter()
        .all(|(id, data)| data["position"] == id.as_str()));
}
