//! Every JSON answer of `/api/auth` and `/api/ledger` writes times as JavaScript's
//! `toISOString()` does (three fractional digits and `Z`), which is what Better
//! Auth's client parses; and the OpenAPI document still calls them date-times.

use crate::helpers::ledger::{sign_up_with, user_id};
use crate::helpers::TestServer;
use chrono::Duration;
use serde_json::Value;
use utoipa::OpenApi;

/// `2026-03-01T09:00:00.123Z`: the only time form an answer may carry.
fn is_javascript_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.len() == 24
        && text.ends_with('Z')
        && bytes[19] == b'.'
        && bytes[20..23].iter().all(u8::is_ascii_digit)
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// Every string in `answer` that reads as a time, with where it is; the events'
/// `data` (the stored event, as recorded) and the fields named in `skip` are left out.
fn times_in(answer: &Value, at: String, skip: &[&str], found: &mut Vec<(String, String)>) {
    match answer {
        Value::String(text) if chrono::DateTime::parse_from_rfc3339(text).is_ok() => {
            found.push((at, text.clone()))
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                times_in(item, format!("{at}[{i}]"), skip, found);
            }
        }
        Value::Object(fields) => {
            for (key, value) in fields {
                if key != "data" && !skip.contains(&key.as_str()) {
                    times_in(value, format!("{at}.{key}"), skip, found);
                }
            }
        }
        _ => {}
    }
}

fn assert_javascript_times(what: &str, answer: &Value, skip: &[&str]) -> usize {
    let mut found = Vec::new();
    times_in(answer, String::new(), skip, &mut found);
    for (at, text) in &found {
        assert!(
            is_javascript_time(text),
            "{what}{at} is `{text}`, not as toISOString() writes it"
        );
    }
    found.len()
}

/// The answers of every route that shows a time, after an invite was used.
async fn answers_with_times() -> Vec<(String, Value)> {
    let server = TestServer::start().await;
    // A clock between milliseconds, so that more digits would show.
    server.clock.advance(Duration::microseconds(123_456));
    let admin = server.admin().await;
    let admin_id = user_id(&admin).await;
    let token = admin
        .create_invite(serde_json::json!({ "role": "user", "maxUses": 2 }))
        .await;
    let (invitee, invitee_id) = sign_up_with(&server, &token, "times@example.com").await;
    let again = server.client();
    let mut answers = vec![
        ("get-session".to_string(), invitee.session().await),
        (
            "sign-in".to_string(),
            again.sign_in("times@example.com", "password1").await.ok(),
        ),
    ];
    let invites = admin.get("/api/ledger/invites").await.ok();
    let invite_id = invites["invites"][0]["id"].as_str().unwrap().to_string();
    let as_of = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    answers.push(("/api/ledger/invites".to_string(), invites));
    for path in [
        format!("/api/auth/invite/get?token={token}"),
        format!("/api/ledger/invites/{invite_id}"),
        format!("/api/ledger/invites/{invite_id}?as_of={as_of}"),
        format!("/api/ledger/invites/{invite_id}/events"),
        "/api/ledger/uses".to_string(),
        format!("/api/ledger/users/{admin_id}/invitees"),
        format!("/api/ledger/users/{invitee_id}/inviter-chain?as_of={as_of}"),
        "/api/ledger/events".to_string(),
    ] {
        let answer = admin.get(&path).await.ok();
        answers.push((path, answer));
    }
    answers
}

/// The read models' rows (`invite`, `invites[]`, `uses[]`), checked separately below.
const ROW_FIELDS: [&str; 3] = ["invite", "invites", "uses"];

#[tokio::test]
async fn every_answer_writes_times_with_milliseconds_and_z() {
    let answers = answers_with_times().await;
    let mut times = 0;
    for (what, answer) in &answers {
        times += assert_javascript_times(what, answer, &ROW_FIELDS);
    }
    // createdAt, updatedAt, expiresAt (user, session, invite), recordedAt, asOf.
    assert!(times >= 20, "only {times} times found in {answers:?}");
}

#[tokio::test]
async fn read_model_rows_write_times_with_milliseconds_and_z() {
    let answers = answers_with_times().await;
    let mut times = 0;
    for (what, answer) in &answers {
        for field in ROW_FIELDS {
            times += assert_javascript_times(&format!("{what} {field}"), &answer[field], &[]);
        }
    }
    assert!(times >= 10, "only {times} times found in {answers:?}");
}

#[test]
fn the_openapi_document_still_calls_them_date_times() {
    let document = serde_json::to_value(invite_ledger::http::ApiDoc::openapi()).unwrap();
    let schemas = &document["components"]["schemas"];
    for (schema, field) in [
        ("EventView", "recordedAt"),
        ("UserNode", "createdAt"),
        ("Reflects", "asOf"),
    ] {
        let property = &schemas[schema]["properties"][field];
        assert_eq!(
            property["format"], "date-time",
            "{schema}.{field}: {property}"
        );
        let types = property["type"].to_string();
        assert!(types.contains("string"), "{schema}.{field}: {property}");
    }
}
