//! `WEBHOOK_FORMAT=cloudevents`: webhooks carry the CloudEvents envelope the NATS
//! publisher uses, so one consumer parses both; still signed, still in order.

use serde_json::json;

use crate::helpers::webhook_sink::WebhookSink;
use crate::helpers::TestServer;

#[tokio::test]
async fn webhooks_in_the_cloudevents_envelope() {
    let sink = WebhookSink::start().await;
    let url = sink.url();
    let server = TestServer::start_with(&[
        "--webhook-url",
        &url,
        "--webhook-secret",
        "a secret",
        "--webhook-format",
        "cloudevents",
    ])
    .await;
    let admin = server.admin().await;
    let token = admin.create_invite(json!({ "role": "user" })).await;
    admin.cancel(&token).await.ok();

    let hooks = sink
        .wait_until(10, |h| {
            h.iter()
                .filter(|h| h.json()["type"] == "invite-ledger.invite.cancelled")
                .count()
                == 1
        })
        .await;
    let invite: Vec<_> = hooks
        .iter()
        .map(|h| h.json())
        .filter(|e| {
            e["type"]
                .as_str()
                .unwrap()
                .starts_with("invite-ledger.invite.")
        })
        .collect();
    let types: Vec<&str> = invite.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "invite-ledger.invite.created",
            "invite-ledger.invite.cancelled"
        ]
    );
    for (hook, event) in hooks.iter().zip(hooks.iter().map(|h| h.json())) {
        assert_eq!(event["specversion"], "1.0", "{event}");
        assert_eq!(event["source"], "invite-ledger");
        assert_eq!(event["datacontenttype"], "application/json");
        // The id is the log position, as in `webhook-id` and NATS' `Nats-Msg-Id`.
        assert_eq!(hook.id, format!("evt_{}", event["id"].as_str().unwrap()));
        assert_eq!(
            event["data"]["globalPosition"].to_string(),
            event["id"].as_str().unwrap()
        );
        assert_eq!(event["subject"], event["data"]["aggregateId"]);
        assert!(
            event["time"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{event}"
        );
    }
    assert_eq!(invite[0]["data"]["type"], "Created");
    assert!(
        invite[0]["data"]["data"]["terms"]["maxUses"].is_number(),
        "camelCase data: {}",
        invite[0]
    );
}
