//! The auditor's questions: a person by id or email with their role history,
//! the feed's filters, closed-invite filters, the diff between two moments,
//! exports of every list, and managing an invite by its id. All through HTTP.

use std::collections::{BTreeSet, HashSet};

use crate::helpers::ledger::{sign_up_with, user_id};
use crate::helpers::synthetic::append_cycles;
use crate::helpers::{Client, TestServer};
use chrono::{DateTime, Duration, Utc};
use invite_ledger::clock::Clock;
use serde_json::{json, Value};

/// The database's clock now: events recorded after this call are later.
async fn db_now(server: &TestServer) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT clock_timestamp()")
        .fetch_one(server.pool().await)
        .await
        .unwrap()
}

/// A time as a query parameter: RFC 3339 with `Z` (a `+` would read as a space).
fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A raw GET: status, content type and body text (for exports).
async fn get_text(client: &Client, path: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut request = client.http.get(format!("{}{path}", client.base));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

/// The feed's events for `query` (one page of up to 1000).
async fn feed(client: &Client, query: &str) -> Vec<Value> {
    let body = client
        .get(&format!("/api/ledger/events?limit=1000&{query}"))
        .await
        .ok();
    body["events"].as_array().unwrap().clone()
}

fn types_of(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_user_is_found_by_id_or_email_with_every_role_they_held() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = user_id(&admin).await;

    // Signs up with a user invite, is raised to admin by an admin invite, then
    // set back to user by the admin.
    let signup_invite = admin
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await
        .ok();
    let token = signup_invite["message"].as_str().unwrap();
    let (invitee, invitee_id) = sign_up_with(&server, token, "Grace@Example.com").await;
    let upgrade = admin
        .post("/api/auth/invite/create", json!({ "role": "admin" }))
        .await
        .ok();
    invitee
        .activate(upgrade["message"].as_str().unwrap())
        .await
        .ok();
    assert_eq!(invitee.role().await, "admin");
    admin
        .post(
            "/api/auth/admin/set-role",
            json!({ "userId": invitee_id, "role": "user" }),
        )
        .await
        .ok();

    let user = admin
        .get(&format!("/api/ledger/users/{invitee_id}"))
        .await
        .ok();
    assert_eq!(user["id"], invitee_id.as_str());
    assert_eq!(user["email"], "grace@example.com");
    assert_eq!(user["role"], "user");
    assert_eq!(user["invitedBy"], admin_id.as_str());
    assert_eq!(user["inviteId"], signup_invite["inviteId"]);
    let history = user["roleHistory"].as_array().unwrap();
    let summary: Vec<(&str, &str, Option<&str>)> = history
        .iter()
        .map(|h| {
            (
                h["kind"].as_str().unwrap(),
                h["role"].as_str().unwrap(),
                h["previousRole"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("registered", "user", None),
            ("invite", "user", Some("user")),
            ("invite", "admin", Some("user")),
            ("admin", "user", Some("admin")),
        ],
        "{user}"
    );
    assert_eq!(history[1]["inviteId"], signup_invite["inviteId"]);
    assert_eq!(history[2]["inviteId"], upgrade["inviteId"]);
    assert_eq!(history[2]["by"], admin_id.as_str());
    assert_eq!(history[3]["by"], admin_id.as_str());
    assert!(history[3]["inviteId"].is_null());
    // Positions are the feed's: the same strings, for the same events.
    let feed_positions: HashSet<String> = feed(&admin, "")
        .await
        .iter()
        .map(|e| e["position"].as_str().unwrap().to_string())
        .collect();
    for change in history {
        let position = change["position"].as_str().unwrap();
        assert!(
            feed_positions.contains(position),
            "{position} is in the feed"
        );
    }

    // By email, in any case; the same answer.
    let by_email = admin
        .get("/api/ledger/users?email=GRACE@example.COM")
        .await
        .ok();
    assert_eq!(by_email, user);
    admin
        .get("/api/ledger/users?email=nobody@example.com")
        .await
        .err(404, "USER_NOT_FOUND");
    admin
        .get("/api/ledger/users/no-such-user")
        .await
        .err(404, "USER_NOT_FOUND");
    admin
        .get("/api/ledger/users?mail=grace@example.com")
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .get("/api/ledger/users")
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .get(&format!(
            "/api/ledger/users/{invitee_id}?as_of=2020-01-01T00:00:00Z"
        ))
        .await
        .err(400, "VALIDATION_ERROR");
    invitee
        .get(&format!("/api/ledger/users/{invitee_id}"))
        .await
        .err(403, "INSUFFICIENT_PERMISSIONS");
}

#[tokio::test]
async fn the_feed_filters_by_actor_type_aggregate_and_time() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = user_id(&admin).await;
    let first = admin
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await
        .ok();
    let (_alice, alice_id) = sign_up_with(
        &server,
        first["message"].as_str().unwrap(),
        "alice@example.com",
    )
    .await;
    let second = admin.create_invite(json!({ "role": "user" })).await;
    admin.cancel(&second).await.ok();

    let all = feed(&admin, "").await;
    assert_eq!(
        types_of(&all),
        [
            "Registered",
            "Created",
            "Activated",
            "Registered",
            "Used",
            "Created",
            "Cancelled"
        ]
    );

    // Alice's acts: she registered and used the invite (she activated it as a
    // visitor, before she was anyone).
    let alices = feed(&admin, &format!("actor={alice_id}")).await;
    assert_eq!(types_of(&alices), ["Registered", "Used"]);
    let admins = feed(&admin, &format!("actor={admin_id}")).await;
    assert_eq!(
        types_of(&admins),
        ["Registered", "Created", "Created", "Cancelled"]
    );

    // Types: repeated, or a comma list; the same answer.
    let repeated = feed(&admin, "type=Created&type=Cancelled").await;
    let listed = feed(&admin, "type=Created,Cancelled").await;
    assert_eq!(repeated, listed);
    assert_eq!(types_of(&repeated), ["Created", "Created", "Cancelled"]);

    // Aggregate: by the invite's id (or the aggregate id events show) or a user id.
    let invite_id = first["inviteId"].as_str().unwrap();
    let of_invite = feed(&admin, &format!("aggregate={invite_id}")).await;
    assert_eq!(types_of(&of_invite), ["Created", "Activated", "Used"]);
    let hash = of_invite[0]["aggregateId"].as_str().unwrap();
    assert_eq!(feed(&admin, &format!("aggregate={hash}")).await, of_invite);
    let of_alice = feed(&admin, &format!("aggregate={alice_id}")).await;
    assert_eq!(types_of(&of_alice), ["Registered"]);

    // Time: from is inclusive, to exclusive, on recordedAt.
    let middle = &all[all.len() / 2];
    let at = middle["recordedAt"].as_str().unwrap();
    let cut: DateTime<Utc> = at.parse().unwrap();
    let from = feed(&admin, &format!("from={at}")).await;
    let expected: Vec<&Value> = all
        .iter()
        .filter(|e| {
            e["recordedAt"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap()
                >= cut
        })
        .collect();
    assert_eq!(from.iter().collect::<Vec<_>>(), expected);
    let to = feed(&admin, &format!("to={at}")).await;
    assert_eq!(to.len() + from.len(), all.len());
    let combined = feed(
        &admin,
        &format!("from={at}&type=Cancelled&actor={admin_id}"),
    )
    .await;
    assert_eq!(types_of(&combined), ["Cancelled"]);

    // Pages of a filtered feed continue with `next`.
    let page = admin
        .get("/api/ledger/events?type=Created&limit=1")
        .await
        .ok();
    assert_eq!(page["events"].as_array().unwrap().len(), 1);
    let rest = feed(
        &admin,
        &format!("type=Created&after={}", page["next"].as_str().unwrap()),
    )
    .await;
    assert_eq!(types_of(&rest), ["Created"]);

    for bad in [
        "type=Bogus",
        "typ=Created",
        "from=yesterday",
        "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
        "format=xml",
    ] {
        admin
            .get(&format!("/api/ledger/events?{bad}"))
            .await
            .err(400, "VALIDATION_ERROR");
    }
}

#[tokio::test]
async fn invites_filter_by_who_closed_them_and_when() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = user_id(&admin).await;
    let other = server.user_with_role("other@example.com", "admin").await;
    let other_id = user_id(&other).await;

    let start = server.clock.now();
    let mine = admin.create_invite(json!({ "role": "user" })).await;
    let theirs = other.create_invite(json!({ "role": "user" })).await;
    admin.create_invite(json!({ "role": "user" })).await;
    admin.cancel(&mine).await.ok();
    server.clock.advance(Duration::minutes(30));
    let later = server.clock.now();
    other.cancel(&theirs).await.ok();

    let ids = |body: Value| -> Vec<String> {
        body["invites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["closedBy"].as_str().unwrap_or("open").to_string())
            .collect()
    };
    let by_admin = admin
        .get(&format!("/api/ledger/invites?closed_by={admin_id}"))
        .await
        .ok();
    assert_eq!(ids(by_admin), [admin_id.as_str()]);
    let by_other = admin
        .get(&format!("/api/ledger/invites?closed_by={other_id}"))
        .await
        .ok();
    assert_eq!(ids(by_other), [other_id.as_str()]);
    let early = admin
        .get(&format!(
            "/api/ledger/invites?closed_from={}&closed_to={}",
            iso(start),
            iso(later)
        ))
        .await
        .ok();
    assert_eq!(ids(early), [admin_id.as_str()]);
    let late = admin
        .get(&format!("/api/ledger/invites?closed_from={}", iso(later)))
        .await
        .ok();
    assert_eq!(ids(late), [other_id]);
    admin
        .get("/api/ledger/invites?closed_from=soon")
        .await
        .err(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn the_diff_tells_what_changed_between_two_moments() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = user_id(&admin).await;
    let before_a = admin
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await
        .ok();
    let before_b = admin
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await
        .ok();
    let from = db_now(&server).await;

    let during = admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "admin", "email": "Dora@Example.com" }),
        )
        .await
        .ok();
    let (_bob, bob_id) = sign_up_with(
        &server,
        before_a["message"].as_str().unwrap(),
        "bob@example.com",
    )
    .await;
    admin
        .cancel(before_b["message"].as_str().unwrap())
        .await
        .ok();
    admin
        .post(
            "/api/auth/admin/set-role",
            json!({ "userId": bob_id, "role": "admin" }),
        )
        .await
        .ok();
    let to = db_now(&server).await;
    admin.create_invite(json!({ "role": "user" })).await;

    let diff = admin
        .get(&format!(
            "/api/ledger/diff?from={}&to={}",
            iso(from),
            iso(to)
        ))
        .await
        .ok();
    let created = diff["created"].as_array().unwrap();
    assert_eq!(created.len(), 1, "{diff}");
    assert_eq!(created[0]["inviteId"], during["inviteId"]);
    assert_eq!(created[0]["email"], "dora@example.com");
    assert_eq!(created[0]["role"], "admin");
    let used = diff["used"].as_array().unwrap();
    assert_eq!(used.len(), 1);
    assert_eq!(used[0]["inviteId"], before_a["inviteId"]);
    assert_eq!(used[0]["userId"], bob_id.as_str());
    let closed = diff["closed"].as_array().unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["inviteId"], before_b["inviteId"]);
    assert_eq!(closed[0]["how"], "cancelled");
    assert_eq!(closed[0]["by"], admin_id.as_str());
    let roles = diff["rolesChanged"].as_array().unwrap();
    assert_eq!(
        roles.len(),
        1,
        "signing up as `user` changes no role: {diff}"
    );
    assert_eq!(roles[0]["userId"], bob_id.as_str());
    assert_eq!(roles[0]["kind"], "admin");
    assert_eq!(roles[0]["previousRole"], "user");
    assert_eq!(roles[0]["role"], "admin");
    assert_eq!(
        diff["counts"],
        json!({"created": 1, "used": 1, "closed": 1, "rolesChanged": 1})
    );
    assert_eq!(diff["complete"], true);

    // Nothing changed in an empty range.
    let none = admin
        .get(&format!("/api/ledger/diff?from={}&to={}", iso(to), iso(to)))
        .await
        .ok();
    assert_eq!(none["counts"]["created"], 0);

    for bad in [
        format!("from={}", iso(from)),
        format!("from={}&to={}", iso(to), iso(from)),
        format!("from=x&to={}", iso(to)),
        format!("from={}&to={}&limit=5", iso(from), iso(to)),
    ] {
        admin
            .get(&format!("/api/ledger/diff?{bad}"))
            .await
            .err(400, "VALIDATION_ERROR");
    }
}

/// Parses a CSV export: the header and the records.
fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn ndjson_rows(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn every_list_exports_as_csv_and_ndjson_past_the_page_limit() {
    const CYCLES: i32 = 1_100;
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin.create_invite(json!({ "role": "user" })).await;
    sign_up_with(&server, &token, "real@example.com").await;
    // More invites, uses and events than one page (1000) holds.
    append_cycles(server.pool().await, 1, CYCLES).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let projected: i64 = sqlx::query_scalar("SELECT count(*) FROM invite_use")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
        if projected == CYCLES as i64 + 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "projected {projected}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let invites = CYCLES as usize + 1;

    // Invites as CSV: a header of the JSON fields, then every invite.
    let (status, content_type, text) =
        get_text(&admin, "/api/ledger/invites?format=csv", None).await;
    assert_eq!(status, 200, "{text}");
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let (header, rows) = csv_rows(&text);
    assert_eq!(rows.len(), invites);
    let page = admin.get("/api/ledger/invites?limit=1").await.ok();
    let json_keys: BTreeSet<String> = page["invites"][0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(header.iter().cloned().collect::<BTreeSet<_>>(), json_keys);
    assert!(!header.contains(&"tokenHash".to_string()));
    let id_column = header.iter().position(|h| h == "id").unwrap();
    let ids: HashSet<&str> = rows.iter().map(|r| r[id_column].as_str()).collect();
    assert_eq!(ids.len(), invites, "no invite twice");

    // The same through `Accept`, filtered as the list is.
    let (_, _, filtered) = get_text(
        &admin,
        "/api/ledger/invites?inviter=synthetic-admin",
        Some("text/csv"),
    )
    .await;
    assert_eq!(csv_rows(&filtered).1.len(), CYCLES as usize);

    // Uses as NDJSON: every use, each line what a page row says.
    let (status, content_type, text) =
        get_text(&admin, "/api/ledger/uses?format=ndjson", None).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/x-ndjson");
    let uses = ndjson_rows(&text);
    assert_eq!(uses.len(), invites);
    let first_page = admin.get("/api/ledger/uses?limit=5").await.ok();
    assert_eq!(
        &uses[..5],
        first_page["uses"].as_array().unwrap().as_slice()
    );

    // The feed: every event, and filtered.
    let (_, _, text) = get_text(&admin, "/api/ledger/events", Some("application/x-ndjson")).await;
    let events = ndjson_rows(&text);
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(server.pool().await)
        .await
        .unwrap();
    assert_eq!(events.len() as i64, total);
    assert!(total > 4 * CYCLES as i64);
    let (_, _, text) = get_text(&admin, "/api/ledger/events?format=csv&type=Used", None).await;
    let (header, rows) = csv_rows(&text);
    assert_eq!(rows.len(), invites);
    let type_column = header.iter().position(|h| h == "type").unwrap();
    assert!(rows.iter().all(|r| r[type_column] == "Used"));
    let data_column = header.iter().position(|h| h == "data").unwrap();
    let data: Value = serde_json::from_str(&rows[0][data_column]).unwrap();
    assert!(data["userId"].is_string(), "{data}");

    // Invitees, a row per account with its depth.
    let (_, _, text) = get_text(
        &admin,
        "/api/ledger/users/synthetic-admin/invitees?format=ndjson",
        None,
    )
    .await;
    // synthetic-admin has no account of its own: the tree needs a user.
    assert!(text.contains("USER_NOT_FOUND"), "{text}");
    let admin_id = user_id(&admin).await;
    let (_, _, text) = get_text(
        &admin,
        &format!("/api/ledger/users/{admin_id}/invitees?format=csv&depth=3"),
        None,
    )
    .await;
    let (header, rows) = csv_rows(&text);
    assert_eq!(
        header,
        [
            "id",
            "email",
            "name",
            "role",
            "invitedBy",
            "createdAt",
            "depth"
        ]
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][1], "real@example.com");
    assert_eq!(rows[0][6], "1");

    // Exports are not paged (a past moment's export is tests/api/audit_exports.rs).
    for bad in [
        "/api/ledger/invites?format=csv&limit=10",
        "/api/ledger/uses?format=ndjson&cursor=00",
        "/api/ledger/events?format=csv&limit=5",
    ] {
        admin.get(bad).await.err(400, "VALIDATION_ERROR");
    }
}

#[tokio::test]
async fn a_creator_cancels_and_resends_a_private_invite_by_its_id() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let other = server.user_with_role("other@example.com", "admin").await;
    let created = admin.invite_by_email("user", "carol@example.com").await;
    let invite_id = created["inviteId"].as_str().unwrap();
    server.mailer.wait_for("carol@example.com", 1).await;

    // An admin may resend it; only its creator may cancel it.
    other
        .post("/api/auth/invite/resend", json!({ "inviteId": invite_id }))
        .await
        .ok();
    server.mailer.wait_for("carol@example.com", 2).await;
    other
        .post("/api/auth/invite/cancel", json!({ "inviteId": invite_id }))
        .await
        .refused_because(400, "INSUFFICIENT_PERMISSIONS", "NOT_INVITE_CREATOR");
    admin
        .post("/api/auth/invite/resend", json!({ "inviteId": invite_id }))
        .await
        .ok();
    server.mailer.wait_for("carol@example.com", 3).await;

    // Exactly one of token and inviteId; an unknown id is a 404.
    admin
        .post(
            "/api/auth/invite/cancel",
            json!({ "inviteId": invite_id, "token": "abc" }),
        )
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .post("/api/auth/invite/cancel", json!({}))
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .post(
            "/api/auth/invite/cancel",
            json!({ "inviteId": "not-a-uuid" }),
        )
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .post(
            "/api/auth/invite/cancel",
            json!({ "inviteId": uuid::Uuid::new_v4() }),
        )
        .await
        .err(404, "INVITE_NOT_FOUND");

    admin
        .post("/api/auth/invite/cancel", json!({ "inviteId": invite_id }))
        .await
        .ok();
    let invite = admin
        .get(&format!("/api/ledger/invites/{invite_id}"))
        .await
        .ok();
    assert_eq!(invite["invite"]["status"], "cancelled");
    let events = feed(&admin, &format!("aggregate={invite_id}")).await;
    assert_eq!(
        types_of(&events),
        ["Created", "Resent", "Resent", "Cancelled"]
    );
}
