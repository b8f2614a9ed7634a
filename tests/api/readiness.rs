//! `/readyz` shows the reactors and says which part is not ready.

use crate::helpers::TestServer;

#[tokio::test]
async fn readiness_shows_the_reactors_and_names_what_is_not_ready() {
    let server = TestServer::start().await;
    let ready = server.client().get("/readyz").await.ok();
    assert_eq!(ready["notReady"], serde_json::json!([]), "{ready}");
    let email = ready["reactors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "email")
        .unwrap_or_else(|| panic!("the email reactor in {ready}"))
        .clone();
    for field in ["lag", "pending", "parked"] {
        assert!(email[field].is_i64(), "{field} in {email}");
    }

    server.pool().await.close().await;
    let reply = server.client().get("/readyz").await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.body["notReady"][0], "database unreachable");
}
