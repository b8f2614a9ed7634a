//! What an auditor takes away: exports of a past moment (invites, uses, a
//! person's invitees and the log, as they stood then), invite events named by
//! the invite's id, and one name for the role a use gave.

use std::collections::BTreeSet;

use crate::helpers::ledger::{sign_up_with, user_id};
use crate::helpers::{Client, TestServer};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

/// The database's clock now: events recorded after this call are later.
pub(crate) async fn db_now(server: &TestServer) -> DateTime<Utc> {
    let now: DateTime<Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
        .fetch_one(server.pool().await)
        .await
        .unwrap();
    // `as_of` reaches to the end of its millisecond: step past it.
    let later = now + Duration::milliseconds(2);
    while sqlx::query_scalar::<_, DateTime<Utc>>("SELECT clock_timestamp()")
        .fetch_one(server.pool().await)
        .await
        .unwrap()
        <= later
    {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    now
}

pub(crate) fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// An export's body: status and text.
async fn export(client: &Client, path: &str) -> (u16, String) {
    let response = client
        .http
        .get(format!("{}{path}", client.base))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The NDJSON export at `path`, one value a line.
async fn ndjson(client: &Client, path: &str) -> Vec<Value> {
    let (status, body) = export(client, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn field<'a>(rows: &'a [Value], name: &str) -> BTreeSet<&'a str> {
    rows.iter().map(|r| r[name].as_str().unwrap()).collect()
}

#[tokio::test]
async fn an_export_answers_what_was_true_at_a_past_moment() {
    let server = TestServer::start().await;
    // Expiry is worked out for the moment asked, a recorded (real) time.
    server.clock_to_real_time();
    let admin = server.admin().await;
    let admin_id = user_id(&admin).await;

    // Then: Ada's invite is used, a public one is open.
    let ada = admin.invite_by_email("user", "ada@example.com").await;
    let token = server.mailer.last_to("ada@example.com").await.token;
    sign_up_with(&server, &token, "ada@example.com").await;
    let open = admin
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await
        .ok();
    let then = db_now(&server).await;

    // Later: the open one is cancelled, Bob joins with a new invite.
    admin.cancel(open["message"].as_str().unwrap()).await.ok();
    let bob = admin.invite_by_email("user", "bob@example.com").await;
    let token = server.mailer.last_to("bob@example.com").await.token;
    sign_up_with(&server, &token, "bob@example.com").await;

    let as_of = format!("as_of={}", iso(then));

    // Invites: the two of then, with their statuses of then.
    let invites = ndjson(
        &admin,
        &format!("/api/ledger/invites?format=ndjson&{as_of}"),
    )
    .await;
    let status: BTreeSet<(&str, &str)> = invites
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        status,
        BTreeSet::from([
            (ada["inviteId"].as_str().unwrap(), "used_up"),
            (open["inviteId"].as_str().unwrap(), "pending"),
        ])
    );
    // The same as the page of then, row for row.
    let page = admin
        .get(&format!("/api/ledger/invites?{as_of}"))
        .await
        .ok();
    assert_eq!(page["invites"].as_array().unwrap(), &invites);
    // Now: three, the open one cancelled.
    let now = ndjson(&admin, "/api/ledger/invites?format=ndjson").await;
    assert_eq!(now.len(), 3);

    // Uses: Ada's only; in CSV too.
    let uses = ndjson(&admin, &format!("/api/ledger/uses?format=ndjson&{as_of}")).await;
    assert_eq!(
        field(&uses, "userEmail"),
        BTreeSet::from(["ada@example.com"])
    );
    let (status, csv) = export(&admin, &format!("/api/ledger/uses?format=csv&{as_of}")).await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(csv.lines().count(), 2, "a header and Ada's use: {csv}");
    assert!(!csv.contains("bob@example.com"), "{csv}");

    // The admin's invitees: Ada then; Ada and Bob now.
    let path = format!("/api/ledger/users/{admin_id}/invitees?format=ndjson");
    let then_invitees = ndjson(&admin, &format!("{path}&{as_of}")).await;
    assert_eq!(
        field(&then_invitees, "email"),
        BTreeSet::from(["ada@example.com"])
    );
    let now_invitees = ndjson(&admin, &path).await;
    assert_eq!(
        field(&now_invitees, "email"),
        BTreeSet::from(["ada@example.com", "bob@example.com"])
    );

    // The log: every event recorded by then, and none after.
    let events = ndjson(&admin, &format!("/api/ledger/events?format=ndjson&{as_of}")).await;
    let all = ndjson(&admin, "/api/ledger/events?format=ndjson").await;
    let recorded_by_then: Vec<&Value> = all
        .iter()
        .filter(|e| {
            e["recordedAt"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap()
                <= then
        })
        .collect();
    assert_eq!(events.iter().collect::<Vec<_>>(), recorded_by_then);
    assert!(events.len() < all.len());
    assert!(
        events
            .iter()
            .all(|e| e["data"]["userEmail"] != "bob@example.com"),
        "Bob's use came later"
    );
    // A page of the log as of then says the same.
    let page = admin
        .get(&format!("/api/ledger/events?limit=1000&{as_of}"))
        .await
        .ok();
    assert_eq!(page["events"].as_array().unwrap(), &events);

    // Before anything: empty exports, not refusals.
    let (status, body) = export(
        &admin,
        "/api/ledger/invites?format=csv&as_of=2001-01-01T00:00:00Z",
    )
    .await;
    assert_eq!((status, body.lines().count()), (200, 1), "{body}");
    let _ = bob;
}

#[tokio::test]
async fn an_invites_events_are_named_by_its_id_not_a_hash() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let created = admin.invite_by_email("user", "cy@example.com").await;
    let invite_id = created["inviteId"].as_str().unwrap();
    let token = server.mailer.last_to("cy@example.com").await.token;
    let (_, cy_id) = sign_up_with(&server, &token, "cy@example.com").await;
    let public = admin
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await
        .ok();
    admin.cancel(public["message"].as_str().unwrap()).await.ok();

    let hashes: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT aggregate_id FROM events WHERE aggregate_type = 'invite'",
    )
    .fetch_all(server.pool().await)
    .await
    .unwrap();
    assert_eq!(hashes.len(), 2);

    let exported = ndjson(&admin, "/api/ledger/events?format=ndjson").await;
    let invites: Vec<&Value> = exported
        .iter()
        .filter(|e| e["aggregateType"] == "invite")
        .collect();
    let named: BTreeSet<&str> = invites
        .iter()
        .map(|e| e["aggregateId"].as_str().unwrap())
        .collect();
    assert_eq!(
        named,
        BTreeSet::from([invite_id, public["inviteId"].as_str().unwrap()]),
        "every invite event (Created, Activated, Used, Cancelled) by its invite's id"
    );
    // A user's events keep the user's id.
    assert!(exported
        .iter()
        .any(|e| e["aggregateType"] == "user" && e["aggregateId"] == cy_id.as_str()));
    // The hash shows nowhere: not in the export, its CSV, a page or an invite's events.
    let (_, csv) = export(&admin, "/api/ledger/events?format=csv").await;
    let page = admin
        .get("/api/ledger/events?limit=1000")
        .await
        .ok()
        .to_string();
    let of_invite = admin
        .get(&format!("/api/ledger/invites/{invite_id}/events"))
        .await
        .ok();
    for hash in &hashes {
        for (what, text) in [
            ("export", serde_json::to_string(&exported).unwrap()),
            ("csv", csv.clone()),
            ("page", page.clone()),
            ("invite's events", of_invite.to_string()),
        ] {
            assert!(!text.contains(hash.as_str()), "the hash in the {what}");
        }
    }
    assert!(of_invite["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["aggregateId"] == invite_id));
    // The feed's `aggregate` filter takes the id it shows.
    let filtered = admin
        .get(&format!("/api/ledger/events?aggregate={invite_id}"))
        .await
        .ok();
    let types: Vec<&str> = filtered["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Created", "Activated", "Used"]);
    // A consumer that kept the old key still finds the invite's events by it.
    let by_old_key = admin
        .get(&format!(
            "/api/ledger/events?aggregate={}",
            crate::helpers::invite_hash(&token)
        ))
        .await
        .ok();
    assert_eq!(by_old_key, filtered);
}

#[tokio::test]
async fn uses_and_the_diff_name_the_role_given_alike() {
    let server = TestServer::start_with(&["--roles", "user,staff,admin"]).await;
    let admin = server.admin().await;
    let from = db_now(&server).await;
    admin.invite_by_email("staff", "di@example.com").await;
    let token = server.mailer.last_to("di@example.com").await.token;
    sign_up_with(&server, &token, "di@example.com").await;
    let to = db_now(&server).await;

    let uses = admin.get("/api/ledger/uses").await.ok();
    let diff = admin
        .get(&format!(
            "/api/ledger/diff?from={}&to={}",
            iso(from),
            iso(to)
        ))
        .await
        .ok();
    let use_row = &uses["uses"][0];
    let diff_row = &diff["used"][0];
    for name in ["roleBefore", "roleAfter"] {
        assert_eq!(
            use_row[name], diff_row[name],
            "{name}: {use_row} / {diff_row}"
        );
    }
    assert_eq!(use_row["roleAfter"], "staff");
    // The earlier name stays for one release, with the same value.
    assert_eq!(use_row["roleGranted"], "staff");
    let (_, csv) = export(&admin, "/api/ledger/uses?format=csv").await;
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert!(header.contains(&"roleAfter"), "{header:?}");

    // The OpenAPI document marks the old name deprecated.
    let openapi = server.client().get("/openapi.json").await.ok();
    let schema = &openapi["components"]["schemas"]["UseView"]["properties"];
    assert_eq!(schema["roleGranted"]["deprecated"], true, "{schema}");
    assert!(schema["roleAfter"].is_object());
}
