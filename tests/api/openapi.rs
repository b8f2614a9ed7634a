//! `/openapi.json` is an OpenAPI 3.1 document that lists every route the router
//! serves (read from the routers' sources, so a new route without an annotation
//! fails here), and `/docs` renders it.

use std::collections::BTreeSet;

use crate::helpers::TestServer;

/// `(method, path)` of every `.route(...)` in the HTTP modules, with their prefix.
fn served_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (file, prefix) in [
        ("accounts.rs", "/api/auth"),
        ("invites.rs", "/api/auth"),
        ("passwords.rs", "/api/auth"),
        ("admin_users.rs", "/api/auth"),
        ("profile.rs", "/api/auth"),
        ("verification.rs", "/api/auth"),
        ("ledger.rs", "/api/ledger"),
        ("health.rs", ""),
        ("companion.rs", "/api/companion"),
    ] {
        let source =
            std::fs::read_to_string(format!("{}/src/http/{file}", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        // `.route("/path", get(a).post(b))`, possibly over several lines.
        for call in source.split(".route(").skip(1) {
            let call: String = route_call(call).split_whitespace().collect();
            let path = call.split('"').nth(1).unwrap();
            let handlers = &call[call.find(',').unwrap()..];
            let mut found = false;
            for method in ["get", "post", "put", "patch", "delete"] {
                if handlers.contains(&format!(",{method}("))
                    || handlers.contains(&format!(".{method}("))
                {
                    routes.insert((method.to_string(), format!("{prefix}{path}")));
                    found = true;
                }
            }
            assert!(found, "no method found in {file}: {call}");
        }
    }
    routes
}

/// The arguments of one `.route(` call: up to its closing parenthesis, so the
/// code after the last route is not read as its handlers.
fn route_call(after_open: &str) -> &str {
    let mut depth = 1;
    for (i, c) in after_open.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return &after_open[..i];
        }
    }
    after_open
}

#[tokio::test]
async fn the_document_validates_and_lists_every_route() {
    let server = TestServer::start().await;
    let client = server.client();
    let reply = client.get("/openapi.json").await.ok();
    let text = reply.to_string();
    // The structure OpenAPI 3.1 requires.
    assert!(
        reply["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        reply["openapi"]
    );
    assert!(reply["info"]["title"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert!(reply["info"]["version"].is_string());
    let paths = reply["paths"].as_object().expect("paths");

    let mut documented = BTreeSet::new();
    for (path, item) in paths {
        assert!(path.starts_with('/'), "{path}");
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                !responses.is_empty(),
                "{method} {path} documents its responses"
            );
            for (status, response) in responses {
                assert!(status.parse::<u16>().is_ok(), "{method} {path}: {status}");
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.trim().is_empty()),
                    "{method} {path} {status} has a description"
                );
                // Every answer but a redirect or an event stream has a JSON schema.
                if !["302", "303", "204"].contains(&status.as_str()) && !path.ends_with("/stream") {
                    let schema = &response["content"]["application/json"]["schema"];
                    assert!(schema.is_object(), "{method} {path} {status} has a schema");
                }
            }
            // Request bodies are typed: named fields, not a bare object.
            if let Some(body) = operation.get("requestBody") {
                let schema = &body["content"]["application/json"]["schema"];
                let schema = match schema["$ref"].as_str() {
                    Some(r) => {
                        &reply["components"]["schemas"]
                            [r.trim_start_matches("#/components/schemas/")]
                    }
                    None => schema,
                };
                assert!(
                    schema["properties"]
                        .as_object()
                        .is_some_and(|p| !p.is_empty()),
                    "{method} {path}: the request body names its fields: {schema}"
                );
            }
            // Routes that need a session say so.
            if ["/api/ledger", "/api/auth/invite/create", "/api/auth/admin/"]
                .iter()
                .any(|p| path.starts_with(p))
            {
                let security = operation["security"].as_array();
                assert!(
                    security.is_some_and(|s| !s.is_empty() && !s.contains(&serde_json::json!({}))),
                    "{method} {path} requires credentials: {:?}",
                    operation.get("security")
                );
            }
            // Every `{parameter}` of the path is declared.
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    operation["parameters"].as_array().is_some_and(|ps| ps
                        .iter()
                        .any(|p| p["name"] == name && p["in"] == "path")),
                    "{method} {path} declares `{name}`"
                );
            }
            documented.insert((method.to_string(), path.clone()));
        }
    }
    let served = served_routes();
    assert!(served.len() >= 20, "{served:?}");
    let missing: Vec<_> = served.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(
        extra.is_empty(),
        "documented routes nobody serves: {extra:?}"
    );

    // Every schema a path refers to exists.
    for reference in text.split("\"$ref\":\"").skip(1) {
        let name = reference
            .split('"')
            .next()
            .unwrap()
            .trim_start_matches("#/components/schemas/");
        assert!(
            reply["components"]["schemas"].get(name).is_some(),
            "missing schema {name}"
        );
    }

    // The log's every event type is named, and nothing cites a document the
    // repository does not hold.
    let event_types = &reply["components"]["schemas"]["EventView"]["properties"]["type"]["enum"];
    for kind in invite_ledger::queries::feed::EVENT_TYPES {
        assert!(
            event_types
                .as_array()
                .is_some_and(|t| t.contains(&(*kind).into())),
            "{kind} in {event_types}"
        );
    }
    for kind in ["Resent", "Refused", "RoleSet"] {
        assert!(invite_ledger::queries::feed::EVENT_TYPES.contains(&kind));
    }
    assert!(!text.contains("DESIGN"), "the document cites DESIGN");

    let docs = client.get("/docs").await;
    assert_eq!(docs.status, 200);
    let page = docs.body.as_str().unwrap();
    assert!(
        page.contains("<html") || page.contains("<!doctype html"),
        "{page}"
    );
    assert!(page.contains("invite-ledger"));
}

/// Every route reads `Ledger-Position`, so every operation can answer `400`
/// for a malformed one: the document says so on each.
#[tokio::test]
async fn every_operation_documents_the_400_of_a_bad_ledger_position() {
    let server = TestServer::start().await;
    let document: serde_json::Value = reqwest::get(format!("http://{}/openapi.json", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut missing = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "post"].contains(&method.as_str()) {
                continue;
            }
            if operation["responses"].get("400").is_none() {
                missing.push(format!("{method} {path}"));
            }
        }
    }
    assert!(missing.is_empty(), "no 400 documented on {missing:?}");
}
