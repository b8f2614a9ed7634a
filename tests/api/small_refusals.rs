//! Small mistakes a client makes get a 4xx in the error shape, never a 500 or
//! a plain-text answer: a time outside what the database holds, a CSV body
//! over the limit, an `Idempotency-Key` with a space, a TRACE.

use crate::helpers::bounded::{bounded, limits};
use crate::helpers::TestServer;

#[tokio::test]
async fn a_time_the_database_cannot_hold_is_bad_input_not_a_server_error() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    for moment in [
        "0000-01-01T00:00:00Z",
        "-0001-06-01T00:00:00Z",
        "+10000-01-01T00:00:00Z",
    ] {
        let encoded: String = url::form_urlencoded::byte_serialize(moment.as_bytes()).collect();
        for path in [
            format!("/api/ledger/invites?as_of={encoded}"),
            format!("/api/ledger/uses?as_of={encoded}"),
            format!("/api/ledger/invites?created_from={encoded}"),
            format!("/api/ledger/events?from={encoded}"),
            format!("/api/ledger/stats?from={encoded}"),
            format!("/api/ledger/diff?from={encoded}&to=2026-01-01T00:00:00Z"),
        ] {
            let reply = admin.get(&path).await;
            let status = reply.status.as_u16();
            // Year 0 is not a year to PostgreSQL: refused. Others it may hold.
            if moment.starts_with("0000") && path.contains("as_of") {
                assert_eq!(status, 400, "{path}: {}", reply.body);
                assert_eq!(reply.body["code"], "VALIDATION_ERROR", "{path}");
            }
            assert!(status < 500, "{path}: {status} {}", reply.body);
        }
    }
}

#[tokio::test]
async fn a_csv_body_over_the_limit_is_a_413_in_the_error_shape() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let mut csv = String::from("email,role\n");
    while csv.len() <= 2 * 1024 * 1024 {
        csv.push_str("someone.with.a.long.address@example.com,user\n");
    }
    admin
        .post_raw("/api/auth/invite/create-many", "text/csv", &csv)
        .await
        .err(413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn an_idempotency_key_with_a_space_is_refused() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let response = admin
        .http
        .post(format!("{}/api/auth/invite/create", admin.base))
        .header("idempotency-key", "two words")
        .json(&serde_json::json!({ "role": "user" }))
        .send()
        .await
        .unwrap();
    crate::helpers::Client::reply(response)
        .await
        .err(400, "VALIDATION_ERROR");
    assert_eq!(server.events(Some("Created")).await, 0);
}

#[tokio::test]
async fn trace_is_a_method_not_allowed() {
    let server = TestServer::start().await;
    // The binary's serving loop, as a deployment answers.
    let bounded = bounded(&server, limits()).await;
    let admin = server.admin().await;
    for path in [
        "/healthz",
        "/api/ledger/invites",
        "/api/auth/invite/create",
        "/api/auth/get-session",
        "/api/ledger/users/someone/erase",
    ] {
        let response = admin
            .http
            .request(
                reqwest::Method::TRACE,
                format!("http://{}{path}", bounded.addr),
            )
            .header("ledger-position", "not-a-position")
            .json(&serde_json::json!({ "role": "user" }))
            .send()
            .await
            .unwrap();
        let reply = crate::helpers::Client::reply(response).await;
        assert_eq!(reply.status.as_u16(), 405, "{path}: {}", reply.body);
        assert_eq!(reply.body["code"], "METHOD_NOT_ALLOWED", "{path}");
    }
}
