//! The audit API's times (`as_of`, `from`, `to`, `created_from`...) take a
//! plain date, meaning its midnight UTC, as an auditor writes one.

use crate::helpers::TestServer;

#[tokio::test]
async fn a_plain_date_is_its_midnight_utc() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    admin
        .create_invite(serde_json::json!({ "role": "user" }))
        .await;
    for (plain, full) in [
        (
            "/api/ledger/invites?created_from=2026-03-01",
            "/api/ledger/invites?created_from=2026-03-01T00:00:00Z",
        ),
        (
            "/api/ledger/invites?created_to=2026-03-01",
            "/api/ledger/invites?created_to=2026-03-01T00:00:00Z",
        ),
        (
            "/api/ledger/stats?from=2026-02-01&to=2026-04-01",
            "/api/ledger/stats?from=2026-02-01T00:00:00Z&to=2026-04-01T00:00:00Z",
        ),
    ] {
        let plain_answer = admin.get(plain).await.ok();
        let full_answer = admin.get(full).await.ok();
        assert_eq!(plain_answer, full_answer, "{plain}");
    }
    for path in [
        "/api/ledger/invites?as_of=2030-01-01",
        "/api/ledger/events?from=2020-01-01&to=2030-01-01",
        "/api/ledger/diff?from=2020-01-01&to=2030-01-01",
    ] {
        admin.get(path).await.ok();
    }
    // Not a date at all is still refused, saying what a time looks like.
    let refused = admin
        .get("/api/ledger/invites?created_from=yesterday")
        .await
        .err(400, "VALIDATION_ERROR");
    assert!(
        refused["message"].as_str().unwrap().contains("2026-03-01"),
        "{refused}"
    );
}
