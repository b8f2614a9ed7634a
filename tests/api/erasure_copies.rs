//! Erasure reaches the copies outside the log: the answers kept for
//! `Idempotency-Key` retries and the sign-in failure counters per account.

use serde_json::{json, Value};

use crate::helpers::{Client, Reply, TestServer};
use invite_ledger::domain::user::user_id_for_email;

const ERIN_EMAIL: &str = "erin.quillfeather@example.com";
const ERIN_NAME: &str = "Erin Quillfeather";
const OTTO_EMAIL: &str = "otto.brambleworth@example.com";
const OTTO_NAME: &str = "Otto Brambleworth";

async fn post_keyed(client: &Client, key: &str, path: &str, body: &Value) -> Reply {
    let response = client
        .http
        .post(format!("{}{path}", client.base))
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    Client::reply(response).await
}

fn assert_none_of(what: &str, text: &str, secrets: &[&str]) {
    let lower = text.to_lowercase();
    for secret in secrets {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "{what} still holds `{secret}`: {text}"
        );
    }
}

#[tokio::test]
async fn a_replayed_answer_after_erasure_names_nobody_erased() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let bulk = json!({ "invites": [
        { "email": ERIN_EMAIL, "role": "user", "name": ERIN_NAME },
        { "email": "someone.else@example.com", "role": "user" },
    ]});
    let first = post_keyed(&admin, "bulk-1", "/api/auth/invite/create-many", &bulk)
        .await
        .ok();
    assert!(first.to_string().contains(ERIN_EMAIL), "{first}");

    let otto = server.client();
    let otto_id = otto.sign_up(OTTO_EMAIL, "password1", OTTO_NAME).await.ok()["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let set_role = json!({ "userId": otto_id, "role": "admin" });
    let first = post_keyed(&admin, "role-1", "/api/auth/admin/set-role", &set_role)
        .await
        .ok();
    assert!(first.to_string().contains(OTTO_NAME), "{first}");

    for person in [user_id_for_email(ERIN_EMAIL), otto_id] {
        admin
            .post(&format!("/api/ledger/users/{person}/erase"), json!({}))
            .await
            .ok();
    }

    let again = post_keyed(&admin, "bulk-1", "/api/auth/invite/create-many", &bulk).await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let again = again.ok();
    assert_eq!(again["created"], 2, "{again}");
    assert_eq!(again["invites"][1]["email"], "someone.else@example.com");
    assert_none_of("the create-many replay", &again.to_string(), &[ERIN_EMAIL]);

    let again = post_keyed(&admin, "role-1", "/api/auth/admin/set-role", &set_role).await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let again = again.ok();
    assert_none_of(
        "the set-role replay",
        &again.to_string(),
        &[OTTO_EMAIL, OTTO_NAME],
    );
}

#[tokio::test]
async fn erasure_forgets_the_sign_in_failures_counted_for_the_address() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let otto = server.client();
    let otto_id = otto.sign_up(OTTO_EMAIL, "password1", OTTO_NAME).await.ok()["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .client()
        .sign_in(OTTO_EMAIL, "wrong-password")
        .await
        .err(401, "INVALID_EMAIL_OR_PASSWORD");
    let counters = || async {
        sqlx::query_scalar::<_, String>("SELECT bucket FROM rate_limit")
            .fetch_all(server.pool().await)
            .await
            .unwrap()
            .join("\n")
    };
    assert!(counters().await.contains(OTTO_EMAIL));

    admin
        .post(&format!("/api/ledger/users/{otto_id}/erase"), json!({}))
        .await
        .ok();
    assert_none_of("rate_limit", &counters().await, &[OTTO_EMAIL]);
}
