//! Real answers match `/openapi.json`: each JSON answer of a real call is
//! validated against the schema its route and status declare, so a client
//! generated from the document reads what the server sends. Schemas are closed
//! here (`unevaluatedProperties: false`), so a field the server sends but the
//! document does not declare fails too, not only a missing or mistyped one.

use std::collections::BTreeSet;

use crate::helpers::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Map, Value};

/// The OpenAPI document, with every object schema closed.
struct Document(Value);

impl Document {
    async fn of(server: &TestServer) -> Document {
        let mut document = server.client().get("/openapi.json").await.ok();
        let in_all_of = referenced_from_all_of(&document);
        close_objects(&mut document, &in_all_of, false);
        Document(document)
    }

    /// The schema of `status`'s JSON answer to `method path`, as a JSON Schema
    /// 2020-12 document that carries the components its `$ref`s point into.
    fn schema(&self, method: &str, path: &str, status: StatusCode) -> Value {
        let operation = &self.0["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        let response = &operation["responses"][status.as_str()];
        assert!(
            response.is_object(),
            "{method} {path} does not document {status}"
        );
        let schema = response["content"]["application/json"]["schema"].clone();
        assert!(
            schema.is_object(),
            "{method} {path} {status} has no JSON schema: {response}"
        );
        let mut root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.0["components"].clone(),
        });
        root.as_object_mut()
            .unwrap()
            .extend(schema.as_object().unwrap().clone());
        root
    }

    /// Asserts that `body`, answered with `status` to `method path`, is what the
    /// document says.
    fn check(&self, method: &str, path: &str, status: StatusCode, body: &Value) {
        let schema = self.schema(method, path, status);
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("the schema of {method} {path} {status}: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} answered {status} with what its schema does not allow:\n{}\n\
             answer: {body:#}\nschema: {:#}",
            errors.join("\n"),
            self.0["paths"][path][method]["responses"][status.as_str()]
        );
    }
}

/// The components that are parts of an `allOf` (flattened fields): closing
/// them alone would refuse the other parts' properties.
fn referenced_from_all_of(document: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut stack = vec![document];
    while let Some(node) = stack.pop() {
        match node {
            Value::Object(map) => {
                if let Some(Value::Array(parts)) = map.get("allOf") {
                    for part in parts {
                        if let Some(reference) = part["$ref"].as_str() {
                            names.insert(reference.to_string());
                        }
                    }
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    names
}

/// Sets `unevaluatedProperties: false` on every schema with `properties` or
/// `allOf`, except the parts of an `allOf` (their whole closes them).
fn close_objects(node: &mut Value, in_all_of: &BTreeSet<String>, is_part: bool) {
    match node {
        Value::Object(map) => {
            close_object(map, is_part);
            for (key, value) in map.iter_mut() {
                match (key.as_str(), value) {
                    ("allOf", Value::Array(parts)) => {
                        for part in parts {
                            close_objects(part, in_all_of, true);
                        }
                    }
                    ("schemas", Value::Object(schemas)) => {
                        for (name, schema) in schemas.iter_mut() {
                            let reference = format!("#/components/schemas/{name}");
                            close_objects(schema, in_all_of, in_all_of.contains(&reference));
                        }
                    }
                    (_, value) => close_objects(value, in_all_of, false),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                close_objects(item, in_all_of, false);
            }
        }
        _ => {}
    }
}

fn close_object(map: &mut Map<String, Value>, is_part: bool) {
    let is_schema = map.contains_key("properties") || map.contains_key("allOf");
    if is_schema && !is_part && !map.contains_key("additionalProperties") {
        map.insert("unevaluatedProperties".into(), Value::Bool(false));
    }
}

#[tokio::test]
async fn real_answers_match_the_document() {
    let server = TestServer::start_with(&["--default-max-uses", "5"]).await;
    server.clock_to_real_time();
    let doc = Document::of(&server).await;
    let auth = "/api/auth";

    // Accounts and invites, as the seed's quick-start walks them.
    let admin = server.client();
    let signed_in = admin
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    doc.check(
        "post",
        "/api/auth/sign-in/email",
        signed_in.status,
        &signed_in.body,
    );
    let created = admin
        .post(
            &format!("{auth}/invite/create"),
            json!({ "role": "user", "senderResponse": "token" }),
        )
        .await;
    doc.check(
        "post",
        "/api/auth/invite/create",
        created.status,
        &created.body,
    );
    let token = created.body["message"].as_str().unwrap().to_string();
    let invite_id = created.body["inviteId"].as_str().unwrap().to_string();

    let visitor = server.client();
    let signed_out = visitor.get(&format!("{auth}/get-session")).await;
    assert_eq!(signed_out.body, Value::Null);
    doc.check(
        "get",
        "/api/auth/get-session",
        signed_out.status,
        &signed_out.body,
    );
    let info = visitor
        .get(&format!("{auth}/invite/get?token={token}"))
        .await;
    doc.check("get", "/api/auth/invite/get", info.status, &info.body);
    let info = visitor
        .post(&format!("{auth}/invite/get"), json!({ "token": token }))
        .await;
    doc.check("post", "/api/auth/invite/get", info.status, &info.body);
    let activated = visitor.activate(&token).await;
    doc.check(
        "post",
        "/api/auth/invite/activate",
        activated.status,
        &activated.body,
    );
    let signed_up = visitor
        .sign_up("test@example.com", "test1234", "Test User")
        .await;
    assert!(
        signed_up.body["invite"]["used"] == true,
        "{}",
        signed_up.body
    );
    doc.check(
        "post",
        "/api/auth/sign-up/email",
        signed_up.status,
        &signed_up.body,
    );
    let session = visitor.get(&format!("{auth}/get-session")).await;
    assert_eq!(session.body["user"]["role"], "user");
    doc.check(
        "get",
        "/api/auth/get-session",
        session.status,
        &session.body,
    );
    let user_id = session.body["user"]["id"].as_str().unwrap().to_string();

    // A signed-in user activates: used at once.
    let other = server.user_with_role("other@example.com", "user").await;
    let upgrade = admin
        .post(
            &format!("{auth}/invite/create"),
            json!({ "role": "admin", "senderResponse": "token" }),
        )
        .await
        .ok();
    let used_at_once = other.activate(upgrade["message"].as_str().unwrap()).await;
    assert_eq!(used_at_once.body["action"], "REDIRECT_TO_AFTER_UPGRADE");
    doc.check(
        "post",
        "/api/auth/invite/activate",
        used_at_once.status,
        &used_at_once.body,
    );

    let set_role = admin
        .post(
            &format!("{auth}/admin/set-role"),
            json!({ "userId": user_id, "role": "user" }),
        )
        .await;
    doc.check(
        "post",
        "/api/auth/admin/set-role",
        set_role.status,
        &set_role.body,
    );
    let listed = admin
        .get(&format!("{auth}/admin/list-users?limit=10&offset=1"))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    doc.check(
        "get",
        "/api/auth/admin/list-users",
        listed.status,
        &listed.body,
    );

    // A private invite: resent, then rejected by its invitee; another cancelled.
    let private = admin
        .post(
            &format!("{auth}/invite/create"),
            json!({ "role": "user", "email": "bob@example.com" }),
        )
        .await
        .ok();
    let private_id = private["inviteId"].as_str().unwrap();
    let resent = admin
        .post(
            &format!("{auth}/invite/resend"),
            json!({ "inviteId": private_id }),
        )
        .await;
    doc.check(
        "post",
        "/api/auth/invite/resend",
        resent.status,
        &resent.body,
    );
    let bob = server.user_with_role("bob@example.com", "user").await;
    let private_token = server.mailer.last_to("bob@example.com").await.token;
    let rejected = bob.reject(&private_token).await;
    doc.check(
        "post",
        "/api/auth/invite/reject",
        rejected.status,
        &rejected.body,
    );
    let cancelled = admin.cancel(&token).await;
    doc.check(
        "post",
        "/api/auth/invite/cancel",
        cancelled.status,
        &cancelled.body,
    );

    // Refusals are `{code, message}` as documented.
    let gone = visitor.activate(&token).await;
    assert_eq!(gone.status, StatusCode::BAD_REQUEST, "{}", gone.body);
    assert_eq!(
        (&gone.body["code"], &gone.body["reason"]),
        (&json!("INVALID_TOKEN"), &json!("INVITE_CANCELLED"))
    );
    doc.check("post", "/api/auth/invite/activate", gone.status, &gone.body);
    let unknown = visitor
        .get(&format!("{auth}/invite/get?token=no-such-token"))
        .await;
    doc.check("get", "/api/auth/invite/get", unknown.status, &unknown.body);
    let anonymous = server
        .client()
        .post(&format!("{auth}/invite/create"), json!({ "role": "user" }))
        .await;
    doc.check(
        "post",
        "/api/auth/invite/create",
        anonymous.status,
        &anonymous.body,
    );

    // The audit API.
    let ledger = "/api/ledger";
    let mut calls = vec![
        ("/api/ledger/invites", format!("{ledger}/invites")),
        ("/api/ledger/invites", format!("{ledger}/invites?limit=1")),
        (
            "/api/ledger/invites/{id}",
            format!("{ledger}/invites/{invite_id}"),
        ),
        (
            "/api/ledger/invites/{id}/events",
            format!("{ledger}/invites/{invite_id}/events"),
        ),
        ("/api/ledger/uses", format!("{ledger}/uses")),
        ("/api/ledger/events", format!("{ledger}/events")),
        (
            "/api/ledger/users",
            format!("{ledger}/users?email=test@example.com"),
        ),
        (
            "/api/ledger/users/{id}",
            format!("{ledger}/users/{user_id}"),
        ),
        (
            "/api/ledger/users/{id}/inviter-chain",
            format!("{ledger}/users/{user_id}/inviter-chain"),
        ),
        ("/api/ledger/stats", format!("{ledger}/stats")),
        (
            "/api/ledger/diff",
            format!("{ledger}/diff?from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z"),
        ),
        ("/api/ledger/invites/{id}", format!("{ledger}/invites/nope")),
        ("/api/ledger/users/{id}", format!("{ledger}/users/nobody")),
        ("/api/ledger/invites", format!("{ledger}/invites?limit=0")),
        ("/healthz", "/healthz".to_string()),
        ("/readyz", "/readyz".to_string()),
    ];
    let admin_id = signed_in.body["user"]["id"].as_str().unwrap().to_string();
    calls.push((
        "/api/ledger/users/{id}/invitees",
        format!("{ledger}/users/{admin_id}/invitees?depth=3"),
    ));
    let mut statuses = BTreeSet::new();
    for (template, url) in &calls {
        let reply = admin.get(url).await;
        statuses.insert(reply.status.as_u16());
        doc.check("get", template, reply.status, &reply.body);
    }
    assert_eq!(
        statuses,
        BTreeSet::from([200, 400, 404]),
        "answers of each kind were checked"
    );
    // The feed holds every kind of event the document names.
    let events = admin.get(&format!("{ledger}/events")).await.ok();
    let kinds: BTreeSet<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for kind in [
        "Created",
        "Activated",
        "Used",
        "Rejected",
        "Cancelled",
        "Resent",
    ] {
        assert!(kinds.contains(kind), "{kind} in {kinds:?}");
    }
    let unauthenticated = server.client().get(&format!("{ledger}/invites")).await;
    doc.check(
        "get",
        "/api/ledger/invites",
        unauthenticated.status,
        &unauthenticated.body,
    );

    let signed_out = visitor.sign_out().await;
    doc.check(
        "post",
        "/api/auth/sign-out",
        signed_out.status,
        &signed_out.body,
    );
}

/// The check itself fails on an answer the document does not describe: a
/// field it does not declare, one of another type, or a missing required one.
#[tokio::test]
async fn a_mismatch_fails_the_check() {
    let server = TestServer::start().await;
    let doc = Document::of(&server).await;
    let admin = server.client();
    let signed_in = admin
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await
        .ok();
    let path = "/api/auth/sign-in/email";
    doc.check("post", path, StatusCode::OK, &signed_in);

    let mismatches = [
        ("an undeclared field", "/user/nickname", json!("Ada")),
        (
            "a field of another type",
            "/user/emailVerified",
            json!("no"),
        ),
        (
            "a date that is no date",
            "/user/createdAt",
            json!("yesterday"),
        ),
    ];
    for (what, pointer, value) in mismatches {
        let mut wrong = signed_in.clone();
        let (parent, field) = pointer.rsplit_once('/').unwrap();
        wrong.pointer_mut(parent).unwrap()[field] = value;
        let outcome = std::panic::catch_unwind(|| {
            doc.check("post", path, StatusCode::OK, &wrong);
        });
        assert!(outcome.is_err(), "{what} passed the check");
    }
    let mut missing = signed_in.clone();
    missing["user"].as_object_mut().unwrap().remove("role");
    let outcome = std::panic::catch_unwind(|| {
        doc.check("post", path, StatusCode::OK, &missing);
    });
    assert!(outcome.is_err(), "a missing field passed the check");

    // A real refusal needs its own schema: a 200's does not fit it.
    let refused = server
        .client()
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let outcome = std::panic::catch_unwind(|| {
        doc.check(
            "post",
            "/api/auth/invite/create",
            StatusCode::OK,
            &refused.body,
        );
    });
    assert!(outcome.is_err(), "an error body passed as a 200");
}

/// The companion API's answers (`/api/companion/*`) match the document too.
#[tokio::test]
async fn companion_answers_match_the_document() {
    use invite_ledger::auth::api_keys::{self, Scope};
    let server = TestServer::start().await;
    let doc = Document::of(&server).await;
    let key = api_keys::create_scoped(server.pool().await, "plugin", Scope::Companion)
        .await
        .unwrap()
        .key;
    let http = reqwest::Client::new();
    let call = |path: &'static str, body: Value, with_key: bool| {
        let mut request = http
            .post(format!("http://{}/api/companion{path}", server.addr))
            .json(&body);
        if with_key {
            request = request.bearer_auth(&key);
        }
        let doc = &doc;
        async move {
            let reply = crate::helpers::Client::reply(request.send().await.unwrap()).await;
            doc.check(
                "post",
                &format!("/api/companion{path}"),
                reply.status,
                &reply.body,
            );
            reply
        }
    };
    let admin =
        json!({ "id": "ba-admin", "email": "boss@acme.com", "name": "Boss", "role": "admin" });
    let bob = json!({ "id": "ba-bob", "email": "bob@acme.com", "name": "Bob" });
    let nobody = call(
        "/hello",
        json!({ "callbackUrl": "http://127.0.0.1:9/x" }),
        false,
    )
    .await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    let early = call(
        "/invite/create",
        json!({ "actor": admin, "role": "user" }),
        true,
    )
    .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    call(
        "/hello",
        json!({ "callbackUrl": "http://127.0.0.1:9/x" }),
        true,
    )
    .await
    .ok();
    let created = call(
        "/invite/create",
        json!({ "actor": admin, "role": "admin", "maxUses": 3, "delivery": "plugin" }),
        true,
    )
    .await
    .ok();
    let token = created["token"].as_str().unwrap().to_string();
    let many = json!({ "actor": admin, "delivery": "plugin", "invites": [
        { "email": "many@acme.com", "role": "user" }, { "email": "nope", "role": "user" }] });
    assert_eq!(
        call("/invite/create-many", many, true).await.ok()["created"],
        1
    );
    call(
        "/invite/create-many",
        json!({ "actor": admin, "invites": [] }),
        true,
    )
    .await
    .err(400, "VALIDATION_ERROR");
    call(
        "/invite/get",
        json!({ "actor": null, "token": token }),
        true,
    )
    .await
    .ok();
    call("/invite/list", json!({ "actor": admin }), true)
        .await
        .ok();
    call(
        "/invite/activate",
        json!({ "actor": null, "token": token }),
        true,
    )
    .await
    .ok();
    call(
        "/invite/activate",
        json!({ "actor": bob, "token": token }),
        true,
    )
    .await
    .ok();
    call(
        "/invite/use",
        json!({ "actor": { "id": "ba-cy", "email": "cy@acme.com" }, "token": token }),
        true,
    )
    .await
    .ok();
    let seat = call(
        "/invite/reserve",
        json!({ "token": token, "user": { "id": "ba-dee", "email": "dee@acme.com" } }),
        true,
    )
    .await
    .ok();
    call(
        "/invite/confirm",
        json!({ "reservationId": seat["reservationId"] }),
        true,
    )
    .await
    .ok();
    let used_up = call(
        "/invite/reserve",
        json!({ "token": token, "user": { "id": "ba-eve", "email": "eve@acme.com" } }),
        true,
    )
    .await;
    assert_eq!(used_up.status, StatusCode::GONE);
    let not_private = call(
        "/invite/reject",
        json!({ "actor": bob, "token": token }),
        true,
    )
    .await;
    assert_eq!(not_private.status, StatusCode::BAD_REQUEST);
    call(
        "/user/set-role",
        json!({ "actor": admin, "user": bob, "role": "user" }),
        true,
    )
    .await
    .ok();
    let other = call(
        "/invite/create",
        json!({ "actor": admin, "role": "user" }),
        true,
    )
    .await
    .ok();
    call(
        "/invite/cancel",
        json!({ "actor": admin, "token": other["token"] }),
        true,
    )
    .await
    .ok();
}

/// The audit API's answers about one organization (the tree, a member's
/// inviter chain, the diff, the lists) match the document.
#[tokio::test]
async fn organization_answers_match_the_document() {
    use invite_ledger::auth::api_keys::{self, Scope};
    let server = TestServer::start().await;
    let doc = Document::of(&server).await;
    let key = api_keys::create_scoped(server.pool().await, "plugin", Scope::Companion)
        .await
        .unwrap()
        .key;
    let http = reqwest::Client::new();
    let owner = json!({ "id": "u-owner", "email": "owner@acme.com" });
    let bob = json!({ "id": "u-bob", "email": "bob@acme.com" });
    for (actor, fact) in [
        (
            &owner,
            json!({ "type": "organizationCreated", "name": "Acme", "slug": "acme" }),
        ),
        (
            &owner,
            json!({ "type": "memberAdded", "memberId": "m-1", "userId": "u-owner", "role": "owner" }),
        ),
        (
            &owner,
            json!({ "type": "invitationCreated", "invitationId": "i-1", "inviterId": "u-owner",
                         "email": "bob@acme.com", "role": "member",
                         "expiresAt": "2100-01-01T00:00:00Z" }),
        ),
        (
            &bob,
            json!({ "type": "memberAdded", "memberId": "m-2", "userId": "u-bob",
                       "role": "member", "invitationId": "i-1" }),
        ),
        (
            &bob,
            json!({ "type": "invitationAccepted", "invitationId": "i-1" }),
        ),
        (
            &owner,
            json!({ "type": "memberRoleChanged", "memberId": "m-2", "userId": "u-bob",
                         "roleBefore": "member", "role": "admin" }),
        ),
        (
            &owner,
            json!({ "type": "memberRemoved", "memberId": "m-2", "userId": "u-bob" }),
        ),
    ] {
        let response = http
            .post(format!(
                "http://{}/api/companion/organization/record",
                server.addr
            ))
            .bearer_auth(&key)
            .json(&json!({ "organizationId": "org-1", "actor": actor, "fact": fact }))
            .send()
            .await
            .unwrap();
        crate::helpers::Client::reply(response).await.ok();
    }
    let admin = server.admin().await;
    let ledger = "/api/ledger/organizations";
    let calls = [
        (
            "/api/ledger/organizations/{id}/tree",
            format!("{ledger}/org-1/tree?ended=true"),
        ),
        (
            "/api/ledger/organizations/{id}/tree",
            format!("{ledger}/org-1/tree?as_of=2000-01-01T00:00:00Z"),
        ),
        (
            "/api/ledger/organizations/{id}/tree",
            format!("{ledger}/nope/tree"),
        ),
        (
            "/api/ledger/organizations/{id}/tree",
            format!("{ledger}/org-1/tree?as_of=x"),
        ),
        (
            "/api/ledger/organizations/{id}/members/{userId}/inviter-chain",
            format!("{ledger}/org-1/members/u-bob/inviter-chain"),
        ),
        (
            "/api/ledger/organizations/{id}/members/{userId}/inviter-chain",
            format!("{ledger}/org-1/members/u-nobody/inviter-chain"),
        ),
        (
            "/api/ledger/organizations/{id}/diff",
            format!("{ledger}/org-1/diff?from=2000-01-01T00:00:00Z&to=2200-01-01T00:00:00Z"),
        ),
        (
            "/api/ledger/organizations/{id}/diff",
            format!("{ledger}/org-1/diff?from=2200-01-01T00:00:00Z&to=2000-01-01T00:00:00Z"),
        ),
        (
            "/api/ledger/organizations/{id}/invitations",
            format!("{ledger}/org-1/invitations"),
        ),
        (
            "/api/ledger/organizations/{id}/invitations",
            format!("{ledger}/nope/invitations"),
        ),
        (
            "/api/ledger/organizations/{id}/members",
            format!("{ledger}/org-1/members?ended=true"),
        ),
    ];
    let mut statuses = BTreeSet::new();
    for (template, url) in &calls {
        let reply = admin.get(url).await;
        statuses.insert(reply.status.as_u16());
        doc.check("get", template, reply.status, &reply.body);
    }
    assert_eq!(statuses, BTreeSet::from([200, 400, 404]));
    let diff = admin.get(&calls[6].1).await.ok();
    assert_eq!(diff["counts"]["rolesChanged"], 1, "{diff}");
}
