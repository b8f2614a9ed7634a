//! What a reconciliation of Better Auth's organization tables asks the ledger
//! (`/api/companion/organization/state`), and what it records: a change whose
//! time those tables do not keep is recorded `observed`, at the ledger's time.

use crate::helpers::{Client, Reply, TestServer};
use invite_ledger::auth::api_keys::{self, Scope};
use serde_json::{json, Value};

/// The companion plugin's side of the organization routes, with a
/// companion-scoped API key.
pub(crate) struct Plugin {
    key: String,
    base: String,
}

impl Plugin {
    pub(crate) async fn new(server: &TestServer) -> Plugin {
        let key = api_keys::create_scoped(server.pool().await, "plugin", Scope::Companion)
            .await
            .unwrap()
            .key;
        Plugin {
            key,
            base: format!("http://{}", server.addr),
        }
    }

    pub(crate) async fn post(&self, route: &str, body: Value) -> Reply {
        let response = reqwest::Client::new()
            .post(format!("{}/api/companion/organization/{route}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        Client::reply(response).await
    }

    pub(crate) async fn state(&self, organization_id: &str) -> Value {
        self.post("state", json!({ "organizationId": organization_id }))
            .await
            .ok()
    }

    pub(crate) async fn record(&self, body: Value) -> Value {
        self.post("record", body).await.ok()
    }
}

#[tokio::test]
async fn the_state_is_what_the_ledger_holds_and_observed_changes_say_so() {
    let server = TestServer::start().await;
    let plugin = Plugin::new(&server).await;
    assert_eq!(
        plugin.state("org-1").await,
        json!({ "organizationId": "org-1", "created": false, "invitations": [], "members": [] })
    );

    let created_at = "2026-01-02T03:04:05.678Z";
    plugin
        .record(json!({ "organizationId": "org-1", "at": created_at,
            "fact": { "type": "organizationCreated", "name": "Acme", "slug": "acme" } }))
        .await;
    plugin
        .record(json!({ "organizationId": "org-1", "at": created_at,
            "fact": { "type": "invitationCreated", "invitationId": "inv-1", "inviterId": "u-owner",
                      "email": "bob@acme.com", "role": "member",
                      "expiresAt": "2126-01-04T00:00:00.000Z" } }))
        .await;
    plugin
        .record(json!({ "organizationId": "org-1", "at": created_at,
            "fact": { "type": "memberAdded", "memberId": "m-1", "userId": "u-bob", "role": "member",
                      "invitationId": "inv-1" } }))
        .await;
    let accepted = plugin
        .record(json!({ "organizationId": "org-1", "observed": true,
            "fact": { "type": "invitationAccepted", "invitationId": "inv-1" } }))
        .await;
    assert_eq!(accepted["recorded"], true);
    // The same change found again: nothing written.
    let again = plugin
        .record(json!({ "organizationId": "org-1", "observed": true,
            "fact": { "type": "invitationAccepted", "invitationId": "inv-1" } }))
        .await;
    assert_eq!(again["recorded"], false);

    assert_eq!(
        plugin.state("org-1").await,
        json!({
            "organizationId": "org-1",
            "created": true,
            "invitations": [{ "id": "inv-1", "created": true, "status": "accepted",
                              "expiresAt": "2126-01-04T00:00:00.000Z" }],
            "members": [{ "id": "m-1", "userId": "u-bob", "role": "member", "present": true }],
        })
    );

    // In the log: the observed change says so; a creation carries its own time.
    let types_and_data: Vec<(String, Value)> =
        sqlx::query_as("SELECT event_type, payload::jsonb FROM events WHERE aggregate_id = 'org-1' ORDER BY sequence")
            .fetch_all(server.pool().await)
            .await
            .unwrap();
    let accepted = &types_and_data
        .iter()
        .find(|(t, _)| t == "InvitationAccepted")
        .unwrap()
        .1["InvitationAccepted"];
    assert_eq!(accepted["observed"], true, "{accepted}");
    let added = &types_and_data
        .iter()
        .find(|(t, _)| t == "MemberAdded")
        .unwrap()
        .1["MemberAdded"];
    assert!(
        added["at"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-02T03:04:05.678"),
        "{added}"
    );
    assert_eq!(added.get("observed"), None, "{added}");
}

#[tokio::test]
async fn observed_goes_with_no_time_and_no_creation_and_bad_input_is_a_4xx() {
    let server = TestServer::start().await;
    let plugin = Plugin::new(&server).await;
    let with_time = plugin
        .post(
            "record",
            json!({ "organizationId": "org-1", "observed": true, "at": "2026-01-01T00:00:00Z",
                "fact": { "type": "invitationCanceled", "invitationId": "inv-1" } }),
        )
        .await;
    with_time.err(400, "VALIDATION_ERROR");
    let a_creation = plugin
        .post(
            "record",
            json!({ "organizationId": "org-1", "observed": true,
                "fact": { "type": "memberAdded", "memberId": "m-1", "userId": "u-1", "role": "member" } }),
        )
        .await;
    a_creation.err(400, "VALIDATION_ERROR");
    plugin
        .post("state", json!({ "organizationId": "" }))
        .await
        .err(400, "INVALID_ID");
    plugin
        .post("state", json!({ "organizationId": "org-1", "extra": 1 }))
        .await
        .err(400, "VALIDATION_ERROR");
    plugin
        .post("state", json!({}))
        .await
        .err(400, "VALIDATION_ERROR");
    // Nothing was written by the refusals.
    assert_eq!(
        plugin.state("org-1").await,
        json!({ "organizationId": "org-1", "created": false, "invitations": [], "members": [] })
    );

    // An audit key is not a companion key.
    let audit_key = api_keys::create(server.pool().await, "reports")
        .await
        .unwrap()
        .key;
    let response = reqwest::Client::new()
        .post(format!(
            "http://{}/api/companion/organization/state",
            server.addr
        ))
        .bearer_auth(audit_key)
        .json(&json!({ "organizationId": "org-1" }))
        .send()
        .await
        .unwrap();
    Client::reply(response).await.err(403, "API_KEY_SCOPE");
}
