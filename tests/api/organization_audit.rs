//! The audit API per organization, fed through the companion API as Better
//! Auth's organization plugin feeds it: who invited whom (a tree, a member's
//! inviter chain, now and `as_of`), the invitations and membership periods as
//! CSV and NDJSON, the diff between two moments, and expiries recorded at
//! their true time.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::audit_exports::{db_now, iso};
use crate::helpers::{Client, TestServer};
use crate::organization_state::Plugin;
use invite_ledger::auth::api_keys;
use invite_ledger::clock::Clock;

const ORG: &str = "org-acme";
const LEDGER: &str = "/api/ledger/organizations";

fn person(id: &str) -> Value {
    json!({ "id": id, "email": format!("{}@acme.com", id.trim_start_matches("u-")) })
}

/// An auditor with an API key, as a script reads the ledger.
async fn auditor(server: &TestServer) -> Client {
    let key = api_keys::create(server.pool().await, "reports")
        .await
        .unwrap()
        .key;
    server.bearer_client(&key)
}

/// Records a fact a second after the one before, as the hooks would.
async fn fact(server: &TestServer, plugin: &Plugin, actor: Option<Value>, fact: Value) -> Value {
    server.clock.advance(Duration::seconds(1));
    plugin
        .record(json!({ "organizationId": ORG, "actor": actor, "fact": fact }))
        .await
}

async fn invite(
    server: &TestServer,
    plugin: &Plugin,
    id: &str,
    inviter: &str,
    email: &str,
    expires: DateTime<Utc>,
) {
    fact(
        server,
        plugin,
        Some(person(inviter)),
        json!({ "type": "invitationCreated", "invitationId": id, "inviterId": inviter,
                "email": email, "role": "member", "expiresAt": iso(expires) }),
    )
    .await;
}

/// `user` accepts invitation `invitation` and becomes member `member`.
async fn join(
    server: &TestServer,
    plugin: &Plugin,
    member: &str,
    user: &str,
    invitation: Option<&str>,
) {
    let actor = invitation.map(|_| person(user));
    fact(
        server,
        plugin,
        actor.clone(),
        json!({ "type": "memberAdded", "memberId": member, "userId": user,
                "role": "member", "invitationId": invitation }),
    )
    .await;
    if let Some(invitation) = invitation {
        fact(
            server,
            plugin,
            actor,
            json!({ "type": "invitationAccepted", "invitationId": invitation }),
        )
        .await;
    }
}

/// The organization with its owner, who joined without an invitation.
async fn founded(server: &TestServer, plugin: &Plugin) {
    server.clock_to_real_time();
    fact(
        server,
        plugin,
        Some(person("u-owner")),
        json!({ "type": "organizationCreated", "name": "Acme", "slug": "acme" }),
    )
    .await;
    fact(
        server,
        plugin,
        Some(person("u-owner")),
        json!({ "type": "memberAdded", "memberId": "m-owner", "userId": "u-owner",
                "role": "owner" }),
    )
    .await;
}

fn in_a_week(server: &TestServer) -> DateTime<Utc> {
    server.clock.now() + Duration::days(7)
}

/// `(userId, email, [invitees...])` of a tree's nodes, for a readable compare.
fn shape(nodes: &Value) -> Value {
    Value::Array(
        nodes
            .as_array()
            .unwrap()
            .iter()
            .map(|n| json!([n["userId"], n["email"], shape(&n["invitees"])]))
            .collect(),
    )
}

fn user_ids(members: &Value) -> Vec<&str> {
    members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["userId"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_tree_and_a_members_inviter_chain_now_and_as_of_before_a_join() {
    let server = TestServer::start().await;
    let plugin = Plugin::new(&server).await;
    let audit = auditor(&server).await;
    founded(&server, &plugin).await;
    invite(
        &server,
        &plugin,
        "inv-bob",
        "u-owner",
        "bob@acme.com",
        in_a_week(&server),
    )
    .await;
    join(&server, &plugin, "m-bob", "u-bob", Some("inv-bob")).await;
    let before_carol = db_now(&server).await;
    invite(
        &server,
        &plugin,
        "inv-carol",
        "u-bob",
        "carol@acme.com",
        in_a_week(&server),
    )
    .await;
    join(&server, &plugin, "m-carol", "u-carol", Some("inv-carol")).await;
    // Added directly by the owner: a root, whom the ledger knows by id only.
    fact(
        &server,
        &plugin,
        Some(person("u-owner")),
        json!({ "type": "memberAdded", "memberId": "m-dan", "userId": "u-dan", "role": "member" }),
    )
    .await;

    let tree = audit.get(&format!("{LEDGER}/{ORG}/tree")).await.ok();
    assert_eq!(tree["organizationId"], ORG);
    assert_eq!(
        shape(&tree["roots"]),
        json!([
            [
                "u-owner",
                "owner@acme.com",
                [["u-bob", "bob@acme.com", [["u-carol", "carol@acme.com", []]]]]
            ],
            ["u-dan", null, []],
        ]),
        "{tree:#}"
    );
    let carol = &tree["roots"][0]["invitees"][0]["invitees"][0];
    assert_eq!(carol["invitedBy"], "u-bob");
    assert_eq!(carol["invitationId"], "inv-carol");
    assert_eq!(carol["role"], "member");

    let then = iso(before_carol);
    let tree_then = audit
        .get(&format!("{LEDGER}/{ORG}/tree?as_of={then}"))
        .await
        .ok();
    assert_eq!(
        shape(&tree_then["roots"]),
        json!([["u-owner", "owner@acme.com", [["u-bob", "bob@acme.com", []]]]]),
        "{tree_then:#}"
    );
    assert!(tree_then["asOf"].is_string(), "{tree_then}");

    let chain = audit
        .get(&format!("{LEDGER}/{ORG}/members/u-carol/inviter-chain"))
        .await
        .ok();
    assert_eq!(chain["member"]["userId"], "u-carol");
    assert_eq!(chain["member"]["email"], "carol@acme.com");
    assert_eq!(user_ids(&chain["chain"]), ["u-bob", "u-owner"], "{chain:#}");
    assert_eq!(chain["chain"][1]["invitedBy"], Value::Null);
    // Before Carol joined she was no member; Bob's chain was the owner already.
    audit
        .get(&format!(
            "{LEDGER}/{ORG}/members/u-carol/inviter-chain?as_of={then}"
        ))
        .await
        .err(404, "USER_NOT_FOUND");
    let bob_then = audit
        .get(&format!(
            "{LEDGER}/{ORG}/members/u-bob/inviter-chain?as_of={then}"
        ))
        .await
        .ok();
    assert_eq!(user_ids(&bob_then["chain"]), ["u-owner"]);
    let dan = audit
        .get(&format!("{LEDGER}/{ORG}/members/u-dan/inviter-chain"))
        .await
        .ok();
    assert_eq!(dan["chain"], json!([]));

    // Bob leaves: without `ended` Carol is a root (still saying who invited
    // her); with it Bob's former membership holds her.
    fact(
        &server,
        &plugin,
        Some(person("u-bob")),
        json!({ "type": "memberLeft", "memberId": "m-bob", "userId": "u-bob" }),
    )
    .await;
    let now = audit.get(&format!("{LEDGER}/{ORG}/tree")).await.ok();
    assert_eq!(
        shape(&now["roots"]),
        json!([
            ["u-owner", "owner@acme.com", []],
            ["u-carol", "carol@acme.com", []],
            ["u-dan", null, []],
        ]),
        "{now:#}"
    );
    assert_eq!(now["roots"][1]["invitedBy"], "u-bob");
    let with_ended = audit
        .get(&format!("{LEDGER}/{ORG}/tree?ended=true"))
        .await
        .ok();
    let bob = &with_ended["roots"][0]["invitees"][0];
    assert_eq!(bob["userId"], "u-bob");
    assert_eq!(bob["status"], "left");
    assert_eq!(user_ids(&bob["invitees"]), ["u-carol"]);
    let chain = audit
        .get(&format!("{LEDGER}/{ORG}/members/u-carol/inviter-chain"))
        .await
        .ok();
    assert_eq!(user_ids(&chain["chain"]), ["u-bob", "u-owner"]);

    // An erased person reads as erased; ids and the tree stay.
    let admin = server.admin().await;
    admin
        .post("/api/ledger/users/u-bob/erase", json!({}))
        .await
        .ok();
    let chain = audit
        .get(&format!("{LEDGER}/{ORG}/members/u-carol/inviter-chain"))
        .await
        .ok();
    assert_eq!(chain["chain"][0]["userId"], "u-bob");
    assert_eq!(chain["chain"][0]["email"], "[erased]");

    // Unknown organization or member, bad parameters.
    audit
        .get(&format!("{LEDGER}/org-nope/tree"))
        .await
        .err(404, "ORGANIZATION_NOT_FOUND");
    audit
        .get(&format!("{LEDGER}/org-nope/members/u-bob/inviter-chain"))
        .await
        .err(404, "ORGANIZATION_NOT_FOUND");
    audit
        .get(&format!("{LEDGER}/{ORG}/members/u-nobody/inviter-chain"))
        .await
        .err(404, "USER_NOT_FOUND");
    for bad in [
        format!("{LEDGER}/{ORG}/tree?as_of=yesterday"),
        format!("{LEDGER}/{ORG}/tree?depth=2"),
        format!("{LEDGER}/{ORG}/tree?ended=maybe"),
        format!("{LEDGER}/{ORG}/members/u-carol/inviter-chain?as_of=0000-01-01T00:00:00Z"),
        format!("{LEDGER}/{ORG}/members/u-carol/inviter-chain?format=csv"),
    ] {
        audit.get(&bad).await.err(400, "VALIDATION_ERROR");
    }
    server
        .client()
        .get(&format!("{LEDGER}/{ORG}/tree"))
        .await
        .err(401, "UNAUTHORIZED");
}

/// An export's status, content type and body.
async fn export(client: &Client, path: &str, accept: Option<&str>) -> (u16, String, String) {
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

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|record| record.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn invitations_and_membership_periods_export_as_csv_and_ndjson() {
    let server = TestServer::start().await;
    let plugin = Plugin::new(&server).await;
    let audit = auditor(&server).await;
    founded(&server, &plugin).await;
    invite(
        &server,
        &plugin,
        "inv-1",
        "u-owner",
        "=1+1@acme.com",
        in_a_week(&server),
    )
    .await;
    invite(
        &server,
        &plugin,
        "inv-2",
        "u-owner",
        "bob@acme.com",
        in_a_week(&server),
    )
    .await;
    join(&server, &plugin, "m-bob", "u-bob", Some("inv-2")).await;
    fact(
        &server,
        &plugin,
        Some(person("u-owner")),
        json!({ "type": "memberRemoved", "memberId": "m-bob", "userId": "u-bob" }),
    )
    .await;

    let (status, content_type, body) = export(
        &audit,
        &format!("{LEDGER}/{ORG}/invitations?format=csv"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let rows = csv_rows(&body);
    assert_eq!(
        rows[0],
        [
            "id",
            "organizationId",
            "email",
            "role",
            "teamId",
            "inviterId",
            "status",
            "expiresAt",
            "resent",
            "createdAt",
            "closedBy",
            "closedAt",
            "closedObserved",
            "memberId",
            "updatedAt",
            "recordedAt",
        ]
    );
    assert_eq!(rows.len(), 3, "{body}");
    let column = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    assert_eq!(rows[1][column("id")], "inv-1");
    // A cell a spreadsheet would take for a formula is made inert.
    assert_eq!(rows[1][column("email")], "'=1+1@acme.com");
    assert_eq!(rows[2][column("status")], "accepted");
    assert_eq!(rows[2][column("memberId")], "m-bob");
    for cell in rows.iter().flatten() {
        assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell:?}");
    }

    // `Accept` asks for NDJSON: the list's rows, one a line.
    let (status, content_type, body) = export(
        &audit,
        &format!("{LEDGER}/{ORG}/invitations"),
        Some("application/x-ndjson"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, "application/x-ndjson");
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let list = audit.get(&format!("{LEDGER}/{ORG}/invitations")).await.ok();
    assert_eq!(Value::Array(lines), list["invitations"]);

    // Membership periods: with `ended`, Bob's (removed) too.
    let (status, _, body) = export(
        &audit,
        &format!("{LEDGER}/{ORG}/members?ended=true&format=ndjson"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let periods: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(periods.len(), 2, "{body}");
    assert_eq!(periods[1]["userId"], "u-bob");
    assert_eq!(periods[1]["status"], "removed");
    assert_eq!(periods[1]["endedBy"], "u-owner");
    assert!(periods[1]["endedAt"].is_string());
    assert_eq!(periods[1]["invitedBy"], "u-owner");
    assert_eq!(periods[1]["email"], "bob@acme.com");
    let (status, content_type, body) = export(
        &audit,
        &format!("{LEDGER}/{ORG}/members?ended=true"),
        Some("text/csv"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("text/csv"));
    let rows = csv_rows(&body);
    assert_eq!(
        rows[0],
        [
            "id",
            "organizationId",
            "userId",
            "role",
            "roleObserved",
            "status",
            "invitationId",
            "addedBy",
            "addedAt",
            "endedBy",
            "endedAt",
            "endedObserved",
            "updatedAt",
            "recordedAt",
            "email",
            "invitedBy",
        ]
    );
    assert_eq!(rows.len(), 3);
    // Without `ended`, the current members only.
    let (_, _, body) = export(&audit, &format!("{LEDGER}/{ORG}/members?format=csv"), None).await;
    assert_eq!(csv_rows(&body).len(), 2, "{body}");

    for bad in [
        format!("{LEDGER}/{ORG}/invitations?format=xml"),
        format!("{LEDGER}/{ORG}/invitations?format=csv&limit=1"),
        format!("{LEDGER}/{ORG}/members?format=csv&ended=perhaps"),
    ] {
        audit.get(&bad).await.err(400, "VALIDATION_ERROR");
    }
    audit
        .get(&format!("{LEDGER}/org-nope/invitations?format=csv"))
        .await
        .err(404, "ORGANIZATION_NOT_FOUND");
    audit
        .get(&format!("{LEDGER}/org-nope/members?format=ndjson"))
        .await
        .err(404, "ORGANIZATION_NOT_FOUND");
}

#[tokio::test]
async fn the_diff_between_two_moments_of_one_organization() {
    let server = TestServer::start().await;
    let plugin = Plugin::new(&server).await;
    let audit = auditor(&server).await;
    founded(&server, &plugin).await;
    invite(
        &server,
        &plugin,
        "inv-early",
        "u-owner",
        "early@acme.com",
        in_a_week(&server),
    )
    .await;
    let from = db_now(&server).await;
    invite(
        &server,
        &plugin,
        "inv-bob",
        "u-owner",
        "bob@acme.com",
        in_a_week(&server),
    )
    .await;
    join(&server, &plugin, "m-bob", "u-bob", Some("inv-bob")).await;
    fact(
        &server,
        &plugin,
        Some(person("u-owner")),
        json!({ "type": "invitationCanceled", "invitationId": "inv-early" }),
    )
    .await;
    fact(
        &server,
        &plugin,
        Some(person("u-owner")),
        json!({ "type": "memberRoleChanged", "memberId": "m-bob", "userId": "u-bob",
                "roleBefore": "member", "role": "admin" }),
    )
    .await;
    fact(
        &server,
        &plugin,
        Some(person("u-owner")),
        json!({ "type": "memberRemoved", "memberId": "m-owner", "userId": "u-owner" }),
    )
    .await;
    let to = db_now(&server).await;
    // After `to`: not in the diff.
    invite(
        &server,
        &plugin,
        "inv-late",
        "u-bob",
        "late@acme.com",
        in_a_week(&server),
    )
    .await;
    // Another organization's events are not either.
    plugin
        .record(
            json!({ "organizationId": "org-other", "actor": person("u-owner"),
            "fact": { "type": "invitationCreated", "invitationId": "inv-x", "inviterId": "u-owner",
                      "email": "x@acme.com", "role": "member",
                      "expiresAt": iso(in_a_week(&server)) } }),
        )
        .await;

    let diff = audit
        .get(&format!(
            "{LEDGER}/{ORG}/diff?from={}&to={}",
            iso(from),
            iso(to)
        ))
        .await
        .ok();
    let ids = |list: &str, field: &str| -> BTreeSet<String> {
        diff[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[field].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        ids("invitationsCreated", "invitationId"),
        ["inv-bob".to_string()].into()
    );
    assert_eq!(diff["invitationsCreated"][0]["email"], "bob@acme.com");
    let decided: Vec<(&str, &str)> = diff["invitationsDecided"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["invitationId"].as_str().unwrap(),
                e["how"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        decided,
        [("inv-bob", "accepted"), ("inv-early", "canceled")]
    );
    assert_eq!(
        ids("membershipsBegan", "userId"),
        ["u-bob".to_string()].into()
    );
    assert_eq!(diff["membershipsBegan"][0]["invitationId"], "inv-bob");
    assert_eq!(diff["membershipsEnded"][0]["userId"], "u-owner");
    assert_eq!(diff["membershipsEnded"][0]["how"], "removed");
    assert_eq!(diff["rolesChanged"][0]["role"], "admin");
    assert_eq!(diff["rolesChanged"][0]["previousRole"], "member");
    assert_eq!(
        diff["counts"],
        json!({ "invitationsCreated": 1, "invitationsDecided": 2, "membershipsBegan": 1,
                "membershipsEnded": 1, "rolesChanged": 1 })
    );
    assert_eq!(diff["complete"], true);
    assert_eq!(diff["organizationId"], ORG);

    // The same moment twice: nothing changed.
    let empty = audit
        .get(&format!("{LEDGER}/{ORG}/diff?from={0}&to={0}", iso(to)))
        .await
        .ok();
    assert_eq!(empty["counts"]["invitationsCreated"], 0);

    for bad in [
        format!("{LEDGER}/{ORG}/diff?from={}&to={}", iso(to), iso(from)),
        format!("{LEDGER}/{ORG}/diff?from={}", iso(from)),
        format!("{LEDGER}/{ORG}/diff?from=soon&to={}", iso(to)),
        format!(
            "{LEDGER}/{ORG}/diff?from={}&to={}&as_of={}",
            iso(from),
            iso(to),
            iso(to)
        ),
    ] {
        audit.get(&bad).await.err(400, "VALIDATION_ERROR");
    }
    audit
        .get(&format!(
            "{LEDGER}/org-nope/diff?from={}&to={}",
            iso(from),
            iso(to)
        ))
        .await
        .err(404, "ORGANIZATION_NOT_FOUND");
}

#[tokio::test]
async fn an_expiry_is_recorded_once_at_its_time_and_shows_as_of() {
    let server = TestServer::start().await;
    let plugin = Plugin::new(&server).await;
    let audit = auditor(&server).await;
    founded(&server, &plugin).await;
    let expires = server.clock.now() + Duration::days(1);
    invite(
        &server,
        &plugin,
        "inv-late",
        "u-owner",
        "late@acme.com",
        expires,
    )
    .await;
    invite(
        &server,
        &plugin,
        "inv-kept",
        "u-owner",
        "kept@acme.com",
        expires + Duration::days(30),
    )
    .await;
    let before = db_now(&server).await;

    // Nothing records an expiry before its time.
    invite(
        &server,
        &plugin,
        "inv-2",
        "u-owner",
        "two@acme.com",
        in_a_week(&server),
    )
    .await;
    let events = |invitation: &'static str| {
        let audit = &audit;
        async move {
            audit
                .get(&format!("{LEDGER}/{ORG}/invitations/{invitation}/events"))
                .await
                .ok()["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["type"] == "InvitationExpired")
                .cloned()
                .collect::<Vec<Value>>()
        }
    };
    assert!(events("inv-late").await.is_empty());

    // Two days on, the next fact of the organization records it, at its
    // `expiresAt`; later facts, and the expiry reported again, do not.
    server.clock.advance(Duration::days(2));
    invite(
        &server,
        &plugin,
        "inv-3",
        "u-owner",
        "three@acme.com",
        in_a_week(&server),
    )
    .await;
    fact(
        &server,
        &plugin,
        Some(person("u-owner")),
        json!({ "type": "memberAdded", "memberId": "m-x", "userId": "u-x", "role": "member" }),
    )
    .await;
    let again = plugin
        .record(json!({ "organizationId": ORG, "at": iso(expires),
            "fact": { "type": "invitationExpired", "invitationId": "inv-late" } }))
        .await;
    assert_eq!(again["recorded"], false, "{again}");
    let expired = events("inv-late").await;
    assert_eq!(expired.len(), 1, "{expired:?}");
    let at: DateTime<Utc> = expired[0]["data"]["at"].as_str().unwrap().parse().unwrap();
    assert_eq!(at.timestamp_millis(), expires.timestamp_millis());
    assert!(events("inv-kept").await.is_empty());

    let status_of = |list: &Value, id: &str| {
        list["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .map(|i| (i["status"].clone(), i["closedAt"].clone()))
            .unwrap()
    };
    let now = audit.get(&format!("{LEDGER}/{ORG}/invitations")).await.ok();
    let (status, closed_at) = status_of(&now, "inv-late");
    assert_eq!(status, "expired");
    let closed_at: DateTime<Utc> = closed_at.as_str().unwrap().parse().unwrap();
    assert_eq!(closed_at.timestamp_millis(), expires.timestamp_millis());
    assert_eq!(status_of(&now, "inv-kept").0, "pending");
    let state = plugin.state(ORG).await;
    let held = state["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "inv-late")
        .unwrap()
        .clone();
    assert_eq!(held["status"], "expired");

    // As of a moment before its expiry it was pending; after it, expired.
    let then = audit
        .get(&format!("{LEDGER}/{ORG}/invitations?as_of={}", iso(before)))
        .await
        .ok();
    assert_eq!(status_of(&then, "inv-late").0, "pending");
    let after = iso(expires + Duration::seconds(1));
    let after = audit
        .get(&format!("{LEDGER}/{ORG}/invitations?as_of={after}"))
        .await
        .ok();
    assert_eq!(status_of(&after, "inv-late").0, "expired");
    assert_eq!(status_of(&after, "inv-kept").0, "pending");

    // The diff tells it as decided, at its time.
    let diff = audit
        .get(&format!(
            "{LEDGER}/{ORG}/diff?from={}&to={}",
            iso(before),
            iso(db_now(&server).await)
        ))
        .await
        .ok();
    let decided = &diff["invitationsDecided"];
    assert_eq!(decided.as_array().unwrap().len(), 1, "{diff:#}");
    assert_eq!(decided[0]["invitationId"], "inv-late");
    assert_eq!(decided[0]["how"], "expired");
    assert_eq!(decided[0]["by"], Value::Null);
}
