//! CSV that a spreadsheet opens safely: a cell that would start a formula
//! (`=`, `+`, `-`, `@`, tab, carriage return) is exported with a leading `'`,
//! as OWASP advises; and a bulk row's name is bounded and printable like a
//! sign-up's, since it goes into the invitation email.

use serde_json::json;

use crate::helpers::{Client, TestServer};

async fn csv_of(client: &Client, path: &str) -> Vec<Vec<String>> {
    let response = client
        .http
        .get(format!("{}{path}", client.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let text = response.text().await.unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|record| record.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn exported_cells_never_start_a_formula() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = admin.user_id().await;
    admin
        .post(
            "/api/auth/invite/create-many",
            json!({ "invites": [
                { "email": "=1+1@example.com", "role": "user", "name": "=HYPERLINK(\"http://x\")" },
            ]}),
        )
        .await
        .ok();
    let token = admin.create_invite(json!({ "role": "user" })).await;
    let guest = server.client();
    guest.activate(&token).await;
    guest
        .sign_up("-2+3@example.com", "password1", "@SUM(1)")
        .await
        .ok();

    let mut seen = Vec::new();
    for path in [
        "/api/ledger/invites?format=csv".to_string(),
        "/api/ledger/uses?format=csv".to_string(),
        format!("/api/ledger/users/{admin_id}/invitees?format=csv"),
    ] {
        for cell in csv_of(&admin, &path).await.into_iter().flatten() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{path}: a cell starts a formula: {cell:?}"
            );
            seen.push(cell);
        }
    }
    for neutralised in ["'=1+1@example.com", "'-2+3@example.com", "'@SUM(1)"] {
        assert!(
            seen.iter().any(|c| c == neutralised),
            "{neutralised}: {seen:?}"
        );
    }
}

#[tokio::test]
async fn bulk_names_are_bounded_and_printable_like_sign_up_names() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let longest = "n".repeat(200);
    let answer = admin
        .post(
            "/api/auth/invite/create-many",
            json!({ "invites": [
                { "email": "long@example.com", "role": "user", "name": "n".repeat(201) },
                { "email": "bell@example.com", "role": "user", "name": "Ring\u{7}me\r\nBcc: x" },
                { "email": "fine@example.com", "role": "user", "name": longest },
            ]}),
        )
        .await
        .ok();
    let rows = answer["invites"].as_array().unwrap();
    assert_eq!(rows[0]["created"], false, "{answer}");
    assert_eq!(rows[0]["error"]["code"], "INVALID_NAME", "{answer}");
    assert_eq!(rows[1]["created"], false, "{answer}");
    assert_eq!(rows[1]["error"]["code"], "INVALID_NAME", "{answer}");
    assert_eq!(rows[2]["created"], true, "{answer}");
}
