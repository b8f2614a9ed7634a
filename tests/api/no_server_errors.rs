//! A deterministic fuzz of the whole OpenAPI surface: every documented
//! operation, read from `/openapi.json`, gets hostile values in each path
//! segment, query parameter and body field, signed in as an admin and not.
//! Whatever comes back, it is never a 5xx.

use crate::helpers::TestServer;
use serde_json::{json, Map, Value};

/// Strings that have broken servers: NUL, control characters, huge, numeric
/// edge cases, traversal, injection, odd Unicode, percent escapes.
fn hostile_strings() -> Vec<String> {
    vec![
        String::new(),
        "\u{0}".into(),
        "a\u{0}b".into(),
        "\u{1}\u{7f}\r\n".into(),
        "x".repeat(100_000),
        "-1".into(),
        "-1/-1".into(),
        "99999999999999999999999999/1".into(),
        "1e308".into(),
        "../../etc/passwd".into(),
        "' OR 1=1 --".into(),
        "%00".into(),
        "%".into(),
        "\u{202e}💥\u{fffd}".into(),
        "\u{d7ff}\u{e000}".into(),
        "https://evil.example/".into(),
        "//evil.example".into(),
        "javascript:alert(1)".into(),
        "2026-13-45T99:99:99Z".into(),
        "00000000-0000-0000-0000-000000000000".into(),
    ]
}

/// JSON values of every type, numbers at the edges, and the strings most
/// likely to get past a type check.
fn hostile_values() -> Vec<Value> {
    let mut values: Vec<Value> = ["\u{0}", "", "-1", "\u{202e}💥", "//evil.example"]
        .into_iter()
        .map(|s| Value::String(s.to_string()))
        .collect();
    values.push(Value::String("x".repeat(100_000)));
    values.extend([
        Value::Null,
        json!(true),
        json!(-1),
        json!(0),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(-9.9e300),
        json!(0.5),
        json!([]),
        json!({}),
        json!([{"a": "\u{0}"}]),
    ]);
    values
}

/// Every field any documented body takes.
const FIELDS: &[&str] = &[
    "email",
    "password",
    "name",
    "callbackURL",
    "redirectTo",
    "userId",
    "role",
    "token",
    "tokenType",
    "maxUses",
    "expiresIn",
    "redirectToSignUp",
    "redirectToSignIn",
    "redirectToAfterUpgrade",
    "shareInviterName",
    "senderResponse",
    "senderResponseRedirect",
];

/// A valid-looking body the hostile field is put into.
fn base_body() -> Map<String, Value> {
    let body = json!({
        "email": "fuzz@example.com",
        "password": "password1",
        "name": "Fuzz",
        "role": "user",
        "token": "ABCDEF",
        "userId": "someone",
    });
    body.as_object().unwrap().clone()
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

struct Operation {
    method: String,
    path: String,
    query: Vec<String>,
}

fn operations(document: &Value) -> Vec<Operation> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let query = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            operations.push(Operation {
                method: method.clone(),
                path: path.clone(),
                query,
            });
        }
    }
    operations
}

/// Sends one request; returns a description when the answer is a 5xx.
async fn server_error(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Option<String> {
    let url = format!("{base}{path}");
    let mut request = match method {
        "get" => http.get(&url),
        "post" => http.post(&url),
        other => panic!("undocumented method {other}"),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.ok()?;
    let status = response.status();
    if !status.is_server_error() {
        // Not read: the event stream's body never ends.
        return None;
    }
    let text = response.text().await.unwrap_or_default();
    let shown: String = path.chars().take(120).collect();
    Some(format!("{method} {shown} -> {status}: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_input_to_any_operation_is_a_server_error() {
    let server = TestServer::start_with(&["--activation-attempts-per-minute", "1000000"]).await;
    let base = format!("http://{}", server.addr);
    let document = server.client().get("/openapi.json").await.ok();
    let operations = operations(&document);
    assert!(operations.len() >= 15, "{} operations", operations.len());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut failures = Vec::new();
    for operation in &operations {
        // A fresh admin session per operation: sign-out ends the one it is sent with.
        let admin = server.admin_token().await;
        for token in [Some(admin.as_str()), None] {
            for value in hostile_strings() {
                let encoded = encode(&value);
                let mut path = operation.path.clone();
                for name in ["{token}", "{id}"] {
                    path = path.replace(name, &encoded);
                }
                let query: Vec<String> = operation
                    .query
                    .iter()
                    .map(|name| format!("{name}={encoded}"))
                    .collect();
                if !query.is_empty() {
                    path = format!("{path}?{}", query.join("&"));
                }
                let body = (operation.method == "post").then(|| {
                    let mut body = base_body();
                    for field in FIELDS {
                        body.insert(field.to_string(), Value::String(value.clone()));
                    }
                    Value::Object(body)
                });
                failures.extend(
                    server_error(&http, &base, token, &operation.method, &path, body.as_ref())
                        .await,
                );
            }
            // One field at a time, the rest valid, reaches deeper; signed in only, for time.
            if token.is_none() || operation.method != "post" || operation.path.contains('{') {
                continue;
            }
            for field in FIELDS {
                for value in hostile_values() {
                    let mut body = base_body();
                    body.insert(field.to_string(), value);
                    let body = Value::Object(body);
                    failures.extend(
                        server_error(&http, &base, token, "post", &operation.path, Some(&body))
                            .await,
                    );
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
