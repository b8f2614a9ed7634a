//! `GET /api/ledger/stats`: invites created, used and expired per day, the
//! conversion funnel and the status counts, as the console's chart shows them.

use crate::helpers::ledger::sign_up_with;
use crate::helpers::TestServer;
use chrono::Duration;
use serde_json::json;

#[tokio::test]
async fn daily_counts_the_funnel_and_the_statuses() {
    let server = TestServer::start().await; // the clock stands at 2026-03-01 09:00 UTC
    let admin = server.admin().await;

    // Day one: a used invite, one only activated, one cancelled, one never touched.
    let used = admin.create_invite(json!({ "role": "user" })).await;
    sign_up_with(&server, &used, "one@example.com").await;
    let activated = server
        .private_invite(&admin, "user", "two@example.com")
        .await;
    server.client().activate(&activated).await.ok();
    let cancelled = server
        .private_invite(&admin, "user", "three@example.com")
        .await;
    admin.cancel(&cancelled).await.ok();
    admin.create_invite(json!({ "role": "user" })).await;

    // Day two: the two untouched day-one invites ran out an hour after they were
    // made; one new invite stays open, another is used twice.
    server.clock.advance(Duration::days(1));
    admin.create_invite(json!({ "role": "user" })).await;
    let twice = admin
        .create_invite(json!({ "role": "user", "maxUses": 2 }))
        .await;
    sign_up_with(&server, &twice, "four@example.com").await;
    sign_up_with(&server, &twice, "five@example.com").await;

    let stats = admin.get("/api/ledger/stats").await.ok();
    assert_eq!(stats["from"], "2026-03-01T00:00:00.000Z");
    assert_eq!(stats["to"], "2026-03-03T00:00:00.000Z");
    assert_eq!(
        stats["days"],
        json!([
            { "day": "2026-03-01", "created": 4, "used": 1, "expired": 2 },
            { "day": "2026-03-02", "created": 2, "used": 2, "expired": 0 },
        ])
    );
    assert_eq!(
        stats["funnel"],
        json!({ "created": 6, "activated": 3, "used": 2 })
    );
    assert_eq!(
        stats["statusCounts"],
        json!({ "pending": 1, "usedUp": 2, "cancelled": 1, "rejected": 0, "expired": 2 })
    );

    // A range: day two only.
    let day_two = admin
        .get("/api/ledger/stats?from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z")
        .await
        .ok();
    assert_eq!(day_two["days"].as_array().unwrap().len(), 1);
    assert_eq!(
        day_two["funnel"],
        json!({ "created": 2, "activated": 1, "used": 1 })
    );

    // Refusals: a reversed range, an unknown parameter, a bad time.
    admin
        .get("/api/ledger/stats?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z")
        .await
        .err(400, "INVALID_RANGE");
    admin
        .get("/api/ledger/stats?form=2026-03-02T00:00:00Z")
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .get("/api/ledger/stats?from=yesterday")
        .await
        .err(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn only_admins_and_api_keys_see_the_stats() {
    let server = TestServer::start().await;
    server
        .client()
        .get("/api/ledger/stats")
        .await
        .err(401, "UNAUTHORIZED");
    server
        .user_with_role("someone@example.com", "user")
        .await
        .get("/api/ledger/stats")
        .await
        .err(403, "INSUFFICIENT_PERMISSIONS");
}
