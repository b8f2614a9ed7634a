//! Small mistakes a client makes get a 4xx in the error shape, never a 500 or
//! a plain-text answer: a time outside what the database holds, a CSV body
//! over the limit, an `Idempotency-Key` with a space, a TRACE.

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
