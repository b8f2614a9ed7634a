//! The audit API: who may read it, filters, pages without duplicates or gaps,
//! an invite's history, the uses trail and who invited whom.

use std::collections::HashSet;
// Not std's: a test blocked on a child process would freeze the in-process server's
// tasks, maybe mid-transaction with a projection's lock that the child then waits for.
use tokio::process::Command;

use crate::helpers::ledger::{sign_up_with, user_id};
use crate::helpers::{Client, TestServer};
use chrono::Duration;
use invite_ledger::clock::Clock;
use serde_json::{json, Value};

/// Every page of `path` (which has no cursor yet).
async fn all_pages(client: &Client, path: &str, key: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let separator = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{separator}cursor={c}"),
            None => path.to_string(),
        };
        let body = client.get(&url).await.ok();
        rows.extend(body[key].as_array().unwrap().iter().cloned());
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    rows
}

#[tokio::test]
async fn only_admins_and_api_keys_may_read() {
    let server = TestServer::start().await;
    server
        .client()
        .get("/api/ledger/invites")
        .await
        .err(401, "UNAUTHORIZED");
    let user = server.user_with_role("plain@example.com", "user").await;
    user.get("/api/ledger/invites")
        .await
        .err(403, "INSUFFICIENT_PERMISSIONS");
    server.admin().await.get("/api/ledger/invites").await.ok();

    let output = Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .args(["apikey", "create", "--name", "reporting"])
        .env("DATABASE_URL", &server.db.url)
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let key = stdout
        .lines()
        .find(|l| l.starts_with("ilk_"))
        .unwrap_or_else(|| panic!("no key printed: {stdout}"))
        .to_string();
    assert!(key.starts_with("ilk_"), "{key}");
    let stored: Vec<String> = sqlx::query_scalar("SELECT key_hash FROM api_key")
        .fetch_all(server.pool().await)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&key[4..]), "the key is stored hashed");

    let http = reqwest::Client::new();
    let url = format!("http://{}/api/ledger/invites", server.addr);
    let by_header = http
        .get(&url)
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);
    let by_bearer = http.get(&url).bearer_auth(&key).send().await.unwrap();
    assert_eq!(by_bearer.status(), 200);
    let wrong = http
        .get(&url)
        .header("x-api-key", "ilk_not-a-key")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["code"], "INVALID_API_KEY");
}

#[tokio::test]
async fn filters_and_pages_without_duplicates_or_gaps() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = user_id(&admin).await;
    let other = server.user_with_role("other@example.com", "admin").await;
    let other_id = user_id(&other).await;

    let start = server.clock.now();
    let mut admin_invites = Vec::new();
    for i in 0..9 {
        let role = if i % 3 == 0 { "admin" } else { "user" };
        admin_invites.push(admin.create_invite(json!({ "role": role })).await);
        server.clock.advance(Duration::minutes(1));
    }
    for _ in 0..4 {
        other.create_invite(json!({ "role": "user" })).await;
        server.clock.advance(Duration::minutes(1));
    }
    admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "user", "email": "Private@Example.com" }),
        )
        .await
        .ok();
    admin
        .post(
            "/api/auth/invite/cancel",
            json!({ "token": admin_invites[1] }),
        )
        .await
        .ok();
    let used_at = server.clock.now();
    sign_up_with(&server, &admin_invites[2], "used@example.com").await;

    // Pages of 4 while new invites keep arriving between pages.
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM invite")
        .fetch_one(server.pool().await)
        .await
        .unwrap();
    assert_eq!(existing, 14);
    let mut added = 0;
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/ledger/invites?limit=4&cursor={c}"),
            None => "/api/ledger/invites?limit=4".to_string(),
        };
        let body = admin.get(&url).await.ok();
        let page = body["invites"].as_array().unwrap();
        assert!(page.len() <= 4);
        rows.extend(page.iter().cloned());
        if added < 3 {
            server.clock.advance(Duration::minutes(1));
            admin.create_invite(json!({ "role": "user" })).await;
            added += 1;
        }
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no invite twice: {ids:?}");
    let all: Vec<String> = sqlx::query_scalar("SELECT id::text FROM invite")
        .fetch_all(server.pool().await)
        .await
        .unwrap();
    // Created in clock order, so even the ones added meanwhile come after the cursor.
    assert_eq!(unique, all.iter().map(String::as_str).collect(), "no gaps");
    assert!(rows.iter().all(|r| r.get("tokenHash").is_none()));

    // Filters.
    let count = |body: Value| body["invites"].as_array().unwrap().len();
    let by_role = admin.get("/api/ledger/invites?role=admin").await.ok();
    assert_eq!(count(by_role.clone()), 3);
    assert!(by_role["invites"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["role"] == "admin"));
    let by_other = admin
        .get(&format!("/api/ledger/invites?inviter={other_id}"))
        .await
        .ok();
    assert_eq!(count(by_other.clone()), 4);
    assert!(by_other["invites"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["inviterId"] == other_id.as_str()));
    let mine = admin
        .get(&format!(
            "/api/ledger/invites?inviter={admin_id}&status=pending&role=user"
        ))
        .await
        .ok();
    // 6 user invites, one cancelled, one used up, plus the private one and 3 added.
    assert_eq!(count(mine), 6 - 2 + 1 + 3);
    let cancelled = admin.get("/api/ledger/invites?status=cancelled").await.ok();
    assert_eq!(count(cancelled.clone()), 1);
    assert_eq!(cancelled["invites"][0]["closedBy"], admin_id.as_str());
    let private = admin
        .get("/api/ledger/invites?email=private@EXAMPLE.com")
        .await
        .ok();
    assert_eq!(count(private), 1);
    let window = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
        format!(
            "created_from={}&created_to={}",
            urlencode(&from.to_rfc3339()),
            urlencode(&to.to_rfc3339())
        )
    };
    let first_three = admin
        .get(&format!(
            "/api/ledger/invites?{}",
            window(start, start + Duration::minutes(3))
        ))
        .await
        .ok();
    assert_eq!(count(first_three), 3);
    let used = admin
        .get(&format!(
            "/api/ledger/invites?used_from={}",
            urlencode(&used_at.to_rfc3339())
        ))
        .await
        .ok();
    assert_eq!(count(used.clone()), 1);
    assert_eq!(used["invites"][0]["status"], "used_up");

    // Bad input is a 400 with a code, never a 500.
    admin
        .get("/api/ledger/invites?cursor=nonsense")
        .await
        .err(400, "INVALID_CURSOR");
    admin
        .get("/api/ledger/invites?created_from=yesterday")
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .get("/api/ledger/invites?limit=0")
        .await
        .err(400, "INVALID_LIMIT");
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn an_invites_history_its_uses_and_who_invited_whom() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = user_id(&admin).await;

    // admin -> a -> b -> c, and admin -> d
    let token = admin
        .create_invite(json!({ "role": "admin", "maxUses": 2 }))
        .await;
    let (a, a_id) = sign_up_with(&server, &token, "a@example.com").await;
    server.clock.advance(Duration::minutes(1));
    let (_, d_id) = sign_up_with(&server, &token, "d@example.com").await;
    let token = a.create_invite(json!({ "role": "admin" })).await;
    let (b, b_id) = sign_up_with(&server, &token, "b@example.com").await;
    let token = b.create_invite(json!({ "role": "user" })).await;
    let (_, c_id) = sign_up_with(&server, &token, "c@example.com").await;

    let invite_id = admin
        .get(&format!("/api/ledger/invites?inviter={admin_id}"))
        .await
        .ok()["invites"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let invite = admin
        .get(&format!("/api/ledger/invites/{invite_id}"))
        .await
        .ok();
    assert_eq!(invite["invite"]["uses"], 2);
    assert_eq!(invite["invite"]["status"], "used_up");
    assert!(invite["position"].is_string());

    let history = admin
        .get(&format!("/api/ledger/invites/{invite_id}/events"))
        .await
        .ok();
    let events = history["events"].as_array().unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["Created", "Activated", "Used", "Activated", "Used"]);
    let positions: Vec<i64> = events
        .iter()
        .map(|e| e["globalPosition"].as_i64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(events.iter().all(|e| e["recordedAt"].is_string()));
    assert_eq!(events[2]["data"]["userId"], a_id.as_str());

    admin
        .get("/api/ledger/invites/00000000-0000-0000-0000-000000000000")
        .await
        .err(404, "INVITE_NOT_FOUND");
    admin
        .get("/api/ledger/invites/not-a-uuid/events")
        .await
        .err(404, "INVITE_NOT_FOUND");

    // The uses trail.
    let uses = all_pages(&admin, "/api/ledger/uses?limit=1", "uses").await;
    assert_eq!(uses.len(), 4);
    let by_inviter = admin
        .get(&format!("/api/ledger/uses?inviter={admin_id}"))
        .await
        .ok();
    let users: Vec<&str> = by_inviter["uses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap())
        .collect();
    assert_eq!(users, [a_id.as_str(), d_id.as_str()]);
    let by_user = admin
        .get(&format!("/api/ledger/uses?user={c_id}"))
        .await
        .ok();
    assert_eq!(by_user["uses"][0]["inviterId"], b_id.as_str());
    assert_eq!(by_user["uses"][0]["roleGranted"], "user");
    let by_invite = admin
        .get(&format!("/api/ledger/uses?invite={invite_id}"))
        .await
        .ok();
    assert_eq!(by_invite["uses"].as_array().unwrap().len(), 2);
    // One form for places in the log: a `position` is `transaction/position`,
    // a bare number is a `globalPosition`, here that of the invite's `Used`.
    let use_positions: Vec<&Value> = by_invite["uses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["globalPosition"])
        .collect();
    let used_positions: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "Used")
        .map(|e| &e["globalPosition"])
        .collect();
    assert_eq!(use_positions, used_positions);
    assert!(by_invite["uses"][0].get("position").is_none());
    assert!(invite["invite"]["lastGlobalPosition"].is_i64());
    assert!(invite["invite"].get("lastPosition").is_none());

    // Who invited whom.
    let direct = admin
        .get(&format!("/api/ledger/users/{admin_id}/invitees"))
        .await
        .ok();
    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&direct["invitees"]), [a_id.clone(), d_id.clone()]);
    assert_eq!(direct["invitees"][0]["invitees"], json!([]));
    let tree = admin
        .get(&format!("/api/ledger/users/{admin_id}/invitees?depth=5"))
        .await
        .ok();
    let a_node = &tree["invitees"][0];
    assert_eq!(ids(&a_node["invitees"]), std::slice::from_ref(&b_id));
    assert_eq!(
        ids(&a_node["invitees"][0]["invitees"]),
        std::slice::from_ref(&c_id)
    );

    let chain = admin
        .get(&format!("/api/ledger/users/{c_id}/inviter-chain"))
        .await
        .ok();
    assert_eq!(chain["user"]["id"], c_id.as_str());
    assert_eq!(ids(&chain["chain"]), [b_id, a_id, admin_id]);
    admin
        .get("/api/ledger/users/nobody/inviter-chain")
        .await
        .err(404, "USER_NOT_FOUND");
    admin
        .get(&format!("/api/ledger/users/{c_id}/invitees?depth=0"))
        .await
        .err(400, "INVALID_DEPTH");
}

/// A misspelt or unknown parameter, or a value no invite can have, is a 400:
/// never a quietly unfiltered (or empty) answer.
#[tokio::test]
async fn unknown_parameters_and_invalid_values_are_refused() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = user_id(&admin).await;
    let token = admin.create_invite(json!({ "role": "user" })).await;
    sign_up_with(&server, &token, "used@example.com").await;
    for path in [
        "/api/ledger/invites?stauts=expired".to_string(),
        "/api/ledger/invites?colour=blue".to_string(),
        "/api/ledger/invites?status=bogus".to_string(),
        "/api/ledger/invites?role=Admin".to_string(),
        "/api/ledger/invites?role=Admin&format=csv".to_string(),
        "/api/ledger/uses?invite_id=1".to_string(),
        "/api/ledger/events?afterr=1/1".to_string(),
        format!("/api/ledger/users/{admin_id}/invitees?deepth=3"),
        format!("/api/ledger/users/{admin_id}/inviter-chain?asof=2020-01-01T00:00:00Z"),
    ] {
        let refused = admin.get(&path).await.err(400, "VALIDATION_ERROR");
        assert!(refused["message"].is_string(), "{path}: {refused}");
    }
    // Known parameters still work, and `/uses` honours `as_of`.
    let uses = admin.get("/api/ledger/uses").await.ok();
    assert_eq!(uses["uses"].as_array().unwrap().len(), 1);
    let long_ago = admin
        .get("/api/ledger/uses?as_of=2020-01-01T00:00:00Z")
        .await
        .ok();
    assert_eq!(long_ago["uses"], json!([]));
    admin
        .get("/api/ledger/invites?role=user&status=used_up")
        .await
        .ok();
}

/// A refused use or activation of an existing invite is in its history (who,
/// why, when); a flood of them is recorded up to the limit and no further.
#[tokio::test]
async fn refused_attempts_are_kept_in_the_invites_history() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = server
        .private_invite(&admin, "user", "alice@example.com")
        .await;
    let info = server.client().invite_info(&token).await.ok();
    let invite_id = info["invitation"]["id"].as_str().unwrap().to_string();

    // Bob is not the invited address: his use of the cookie is refused.
    let bob_id = user_id(&{
        let bob = server.client();
        bob.sign_up("bob@example.com", "password1", "Bob")
            .await
            .ok();
        bob
    })
    .await;
    let bob = server.client();
    bob.activate(&token).await.ok();
    let signed_in = bob.sign_in("bob@example.com", "password1").await.ok();
    assert_eq!(signed_in["invite"]["used"], false, "{signed_in}");

    let history = admin
        .get(&format!("/api/ledger/invites/{invite_id}/events"))
        .await
        .ok();
    let refused: Vec<&Value> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "Refused")
        .collect();
    assert!(!refused.is_empty(), "{history}");
    let last = refused.last().unwrap();
    assert_eq!(last["data"]["refusal"]["attempt"], "use");
    assert_eq!(last["data"]["refusal"]["reason"], "INVITE_EMAIL_MISMATCH");
    let by = &last["data"]["refusal"];
    assert_eq!(
        by["userId"].as_str().or(by["user_id"].as_str()),
        Some(bob_id.as_str())
    );
    // Client details are personal data: not recorded unless the operator asks.
    assert!(by.get("clientAddress").is_none(), "{by}");
    assert!(by.get("userAgent").is_none(), "{by}");
    // The invite itself is unchanged.
    let invite = admin
        .get(&format!("/api/ledger/invites/{invite_id}"))
        .await
        .ok();
    assert_eq!(invite["invite"]["uses"], 0);

    // A cancelled invite's activations are refused, each recorded, up to 30 a minute.
    admin
        .post("/api/auth/invite/cancel", json!({ "token": token }))
        .await
        .ok();
    for _ in 0..40 {
        server.client().activate(&token).await;
    }
    let recorded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'Refused'
            AND payload->'Refused'->'refusal'->>'attempt' = 'activation'",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    let before: i64 = refused.len() as i64;
    assert_eq!(
        recorded + before,
        30,
        "the per-invite limit bounds what is recorded"
    );
}

/// The refusals of one invite's history, oldest first.
async fn refusals_of(admin: &Client, invite_id: &str) -> Vec<Value> {
    let history = admin
        .get(&format!("/api/ledger/invites/{invite_id}/events"))
        .await
        .ok();
    history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "Refused")
        .map(|e| e["data"]["refusal"].clone())
        .collect()
}

/// With `RECORD_CLIENT_DETAILS`, a refused attempt also names the client's
/// address and user agent; an invite-only sign-up that is refused is recorded
/// against its invite like any other use.
#[tokio::test]
async fn refusals_name_the_client_when_the_operator_asks() {
    let server =
        TestServer::start_with(&["--invite-only", "true", "--record-client-details", "true"]).await;
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "user", "maxUses": 1 }))
        .await;
    let info = server.client().invite_info(&token).await.ok();
    let invite_id = info["invitation"]["id"].as_str().unwrap().to_string();
    // Two visitors hold the invite's cookie; the first takes its one seat...
    let late = server.client();
    late.activate(&token).await.ok();
    sign_up_with(&server, &token, "first@example.com").await;

    // ...so the second one's sign-up through it is refused...
    let refused = late.sign_up("late@example.com", "password1", "Late").await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    // ...and so is an activation from a browser.
    let browser = reqwest::Client::new()
        .post(format!("http://{}/api/auth/invite/activate", server.addr))
        .header("user-agent", "Auditor-Test-Browser/1.0")
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert!(browser.status().is_client_error(), "{}", browser.status());

    let refusals = refusals_of(&admin, &invite_id).await;
    let sign_up = refusals
        .iter()
        .find(|r| r["attempt"] == "use" && r["email"] == "late@example.com")
        .unwrap_or_else(|| panic!("the refused sign-up is recorded: {refusals:?}"));
    assert_eq!(sign_up["reason"], "INVITE_USED_UP", "{sign_up}");
    assert_eq!(sign_up["clientAddress"], "127.0.0.1", "{sign_up}");
    let activation = refusals
        .iter()
        .find(|r| r["attempt"] == "activation")
        .unwrap_or_else(|| panic!("the refused activation is recorded: {refusals:?}"));
    assert_eq!(activation["clientAddress"], "127.0.0.1", "{activation}");
    assert_eq!(
        activation["userAgent"], "Auditor-Test-Browser/1.0",
        "{activation}"
    );
}
