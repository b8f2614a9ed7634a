//! Helpers for the audit API's tests.

use super::{Client, TestServer};

/// A visitor activates `token` and signs up as `email`: returns the new
/// account's client and id.
pub async fn sign_up_with(server: &TestServer, token: &str, email: &str) -> (Client, String) {
    let client = server.client();
    client.activate(token).await.ok();
    let reply = client.sign_up(email, "password1", "Invitee").await.ok();
    assert_eq!(reply["invite"]["used"], true, "{reply}");
    let id = reply["user"]["id"].as_str().unwrap().to_string();
    (client, id)
}

/// The signed-in client's user id.
pub async fn user_id(client: &Client) -> String {
    client.session().await["user"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}
