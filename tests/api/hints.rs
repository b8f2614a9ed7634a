//! Refusals that tell a newcomer what to do: a bad shared option of a CSV bulk
//! call refuses the call (as the README says), an API key trying to erase is
//! told that erasing needs an admin's session, and a write from an untrusted
//! origin names the origins that are trusted.

use serde_json::json;

use crate::helpers::TestServer;
use invite_ledger::auth::api_keys;

#[tokio::test]
async fn a_bad_shared_option_of_a_csv_bulk_call_refuses_the_call() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let csv = "email,role\nann@example.com,user\nbob@example.com,user\n";
    for query in ["expiresIn=-5", "maxUses=0", "expiresIn=soon"] {
        let reply = admin
            .post_raw(
                &format!("/api/auth/invite/create-many?{query}"),
                "text/csv",
                csv,
            )
            .await;
        assert_eq!(reply.status.as_u16(), 400, "{query}: {}", reply.body);
        assert!(reply.body["code"].is_string(), "{query}: {}", reply.body);
    }
    assert_eq!(server.events(Some("Created")).await, 0);
}

#[tokio::test]
async fn an_api_key_trying_to_erase_is_told_it_needs_an_admin_session() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = admin.user_id().await;
    let key = api_keys::create(server.pool().await, "audit")
        .await
        .unwrap()
        .key;
    let reply = server
        .bearer_client(&key)
        .post(&format!("/api/ledger/users/{admin_id}/erase"), json!({}))
        .await;
    assert_eq!(reply.status.as_u16(), 401, "{}", reply.body);
    let message = reply.body["message"].as_str().unwrap_or_default();
    assert!(message.contains("API key"), "{}", reply.body);
    assert!(message.contains("admin"), "{}", reply.body);
}

#[tokio::test]
async fn an_untrusted_origin_is_told_which_are_trusted() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let response = admin
        .http
        .post(format!("{}/api/auth/invite/create", admin.base))
        .header("origin", "http://192.168.1.20:3000")
        .json(&json!({ "role": "user" }))
        .send()
        .await
        .unwrap();
    let body = crate::helpers::Client::reply(response)
        .await
        .err(403, "INVALID_ORIGIN");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("http://192.168.1.20:3000"), "{body}");
    assert!(message.contains("http://localhost:3000"), "{body}");
    assert!(message.contains("TRUSTED_ORIGINS"), "{body}");
}
