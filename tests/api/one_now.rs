//! One command, one `now`: an invite's `expiresAt` is exactly its creation
//! time plus `expiresIn`, for a single create and for every row of a bulk one
//! (on the real clock of a server process, where two readings differ).

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::helpers::process::{create_user, serve};
use crate::helpers::TestDb;

#[tokio::test]
async fn expiry_is_creation_time_plus_expires_in() {
    let db = TestDb::new().await;
    create_user(&db, "admin@example.com", "admin", &[]).await;
    let served = serve(&db, &[]).await;
    let session = served.sign_in("admin@example.com").await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{}/api/auth{path}", served.base))
            .bearer_auth(&session)
            .json(&body)
            .send()
    };
    for _ in 0..3 {
        let answer = post(
            "/invite/create",
            json!({ "role": "user", "expiresIn": 3600 }),
        )
        .await
        .unwrap();
        assert_eq!(answer.status(), 200);
    }
    let rows: Vec<serde_json::Value> = (0..5)
        .map(|i| json!({ "email": format!("row{i}@example.com"), "role": "user" }))
        .collect();
    let answer = post(
        "/invite/create-many",
        json!({ "invites": rows, "expiresIn": 3600 }),
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), 200);

    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let created: Vec<(String, String)> = sqlx::query_as(
        "SELECT payload -> 'Created' ->> 'at', payload -> 'Created' -> 'terms' ->> 'expires_at'
           FROM events WHERE event_type = 'Created'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(created.len(), 8);
    for (at, expires_at) in created {
        let at: DateTime<Utc> = at.parse().unwrap();
        let expires_at: DateTime<Utc> = expires_at.parse().unwrap();
        assert_eq!(
            expires_at - at,
            chrono::Duration::seconds(3600),
            "created {at}, expires {expires_at}"
        );
    }
    pool.close().await;
}
