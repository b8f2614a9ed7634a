//! Better Auth's `updateUser`: the name and picture change, as an event of the
//! person whose fields are sealed like every personal field.

use crate::helpers::TestServer;
use serde_json::json;

#[tokio::test]
async fn update_user_changes_the_name_and_image_and_an_erasure_hides_them() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let olga = server.user_with_role("olga@example.com", "user").await;
    let id = olga.user_id().await;

    let updated = olga
        .post(
            "/api/auth/update-user",
            json!({ "name": "Olga Renamed", "image": "https://img.example/olga.png" }),
        )
        .await
        .ok();
    assert_eq!(updated, json!({ "status": true }));
    let session = olga.session().await;
    assert_eq!(session["user"]["name"], "Olga Renamed");
    assert_eq!(session["user"]["image"], "https://img.example/olga.png");
    // A field left out stays; `null` removes the picture.
    olga.post("/api/auth/update-user", json!({ "image": null }))
        .await
        .ok();
    let session = olga.session().await;
    assert_eq!(session["user"]["name"], "Olga Renamed");
    assert!(session["user"]["image"].is_null());
    olga.post("/api/auth/update-user", json!({ "name": "  " }))
        .await
        .err(400, "INVALID_NAME");
    server
        .client()
        .post("/api/auth/update-user", json!({ "name": "X" }))
        .await
        .err(401, "UNAUTHORIZED");

    // Sealed in the log, shown by the audit API, hidden once erased.
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT payload::text FROM events WHERE event_type = 'ProfileUpdated'")
            .fetch_all(server.pool().await)
            .await
            .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(
        stored.iter().all(|e| !e.contains("Olga Renamed")),
        "{stored:?}"
    );
    let feed = admin
        .get("/api/ledger/events?type=ProfileUpdated")
        .await
        .ok()
        .to_string();
    assert!(feed.contains("Olga Renamed"), "{feed}");
    admin
        .post(&format!("/api/ledger/users/{id}/erase"), json!({}))
        .await
        .ok();
    let feed = admin
        .get("/api/ledger/events?type=ProfileUpdated")
        .await
        .ok()
        .to_string();
    assert!(
        !feed.contains("Olga Renamed") && !feed.contains("olga.png"),
        "{feed}"
    );
}
