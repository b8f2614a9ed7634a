//! `POST /invite/create-many`: private invites from a JSON list or a CSV upload,
//! each row checked on its own and reported, the valid ones created together
//! (one `Created` each, one transaction) and emailed by the email reactor.

use serde_json::{json, Value};

use crate::helpers::TestServer;

const ROUTE: &str = "/api/auth/invite/create-many";

fn rows(answer: &Value) -> &Vec<Value> {
    answer["invites"].as_array().expect("one entry per row")
}

#[tokio::test]
async fn valid_rows_are_created_and_refused_rows_say_why_as_a_single_create_would() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let answer = admin
        .post(
            ROUTE,
            json!({
                "invites": [
                    { "email": "Ann@Example.com", "role": "user", "name": "Ann" },
                    { "email": "not-an-email", "role": "user" },
                    { "email": "bob@example.com", "role": "owner" },
                    { "email": "cy@example.com", "role": "admin" },
                    { "email": "dee@example.com" },
                ],
                "expiresIn": 86400,
                "maxUses": 2,
            }),
        )
        .await
        .ok();
    assert_eq!(answer["status"], true);
    assert_eq!(answer["created"], 2);
    assert_eq!(answer["refused"], 3);
    let rows = rows(&answer);
    assert_eq!(rows.len(), 5);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["row"], i + 1);
    }
    assert_eq!(rows[0]["created"], true);
    assert_eq!(rows[0]["email"], "Ann@Example.com");
    assert_eq!(rows[3]["created"], true);
    assert_eq!(rows[4]["error"]["code"], "VALIDATION_ERROR");

    // The same refusals, in the same words, as one create at a time.
    for (row, email, role) in [(1, "not-an-email", "user"), (2, "bob@example.com", "owner")] {
        let single = admin
            .post(
                "/api/auth/invite/create",
                json!({ "email": email, "role": role }),
            )
            .await
            .refused();
        assert_eq!(rows[row]["created"], false);
        assert_eq!(rows[row]["error"], single, "row {}", row + 1);
    }

    // Emails leave through the reactor, with the row's name and the shared options.
    let ann = server.mailer.last_to("ann@example.com").await;
    assert!(ann.text().contains("Hi Ann,"), "{}", ann.text());
    let info = server.client().invite_info(&ann.token).await.ok();
    assert_eq!(info["invitation"]["id"], rows[0]["inviteId"]);
    assert_eq!(info["invitation"]["maxUses"], 2);
    assert_eq!(info["invitation"]["private"], true);
    let cy = server.mailer.last_to("cy@example.com").await;
    assert!(cy.text().contains("Hi there,"), "{}", cy.text());
    assert_eq!(cy.role, "admin");
    assert_eq!(server.events(Some("Created")).await, 2);
}

#[tokio::test]
async fn a_csv_upload_takes_the_shared_options_from_the_query() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let csv = "Email,Role,Name\n\
               ann@example.com,user,Ann Smith\n\
               \"bob@example.com\",admin,\"Bob, Jr.\"\n\
               carl@example.com\n\
               \n\
               dora@example.com,user\n";
    let answer = admin
        .post_raw(&format!("{ROUTE}?maxUses=3&expiresIn=600"), "text/csv", csv)
        .await
        .ok();
    assert_eq!(answer["created"], 3, "{answer}");
    let rows = rows(&answer);
    assert_eq!(rows.len(), 4, "the blank line is no row");
    assert_eq!(rows[2]["email"], "carl@example.com");
    assert_eq!(rows[2]["error"]["code"], "VALIDATION_ERROR");
    let bob = server.mailer.last_to("bob@example.com").await;
    assert!(bob.text().contains("Hi Bob, Jr.,"), "{}", bob.text());
    let info = server.client().invite_info(&bob.token).await.ok();
    assert_eq!(info["invitation"]["maxUses"], 3);
    assert_eq!(info["invitation"]["role"], "admin");
}

#[tokio::test]
async fn the_valid_rows_are_appended_in_one_transaction() {
    let server = TestServer::start().await;
    let invites: Vec<Value> = (0..200)
        .map(|i| json!({ "email": format!("p{i}@example.com"), "role": "user" }))
        .collect();
    let answer = server
        .admin()
        .await
        .post(ROUTE, json!({ "invites": invites }))
        .await
        .ok();
    assert_eq!(answer["created"], 200);
    let transactions: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT transaction_id) FROM events WHERE event_type = 'Created'",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!(transactions, 1);
    assert_eq!(server.events(Some("Created")).await, 200);
    server.mailer.last_to("p199@example.com").await;
}

#[tokio::test]
async fn bad_requests_are_refused_whole_and_write_nothing() {
    let server = TestServer::start_with(&["--invite-bulk-max", "3"]).await;
    let admin = server.admin().await;
    let four: Vec<Value> = (0..4)
        .map(|i| json!({ "email": format!("q{i}@example.com"), "role": "user" }))
        .collect();
    let body = admin
        .post(ROUTE, json!({ "invites": four }))
        .await
        .err(400, "TOO_MANY_INVITES");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("INVITE_BULK_MAX"));
    admin
        .post(ROUTE, json!({ "invites": [] }))
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .post(ROUTE, json!({ "invites": [], "senderResponse": "token" }))
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .post(
            ROUTE,
            json!({ "invites": [{ "email": "a@example.com", "role": "user" }], "maxUse": 2 }),
        )
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .post(ROUTE, json!({ "role": "user" }))
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .post_raw(ROUTE, "text/csv", "address,role\na@example.com,user\n")
        .await
        .err(400, "INVALID_CSV");
    admin
        .post_raw(
            &format!("{ROUTE}?maxUses=lots"),
            "text/csv",
            "email,role\na@example.com,user\n",
        )
        .await
        .err(400, "VALIDATION_ERROR");
    admin
        .post_raw(
            ROUTE,
            "application/json",
            "{\"invites\": [{\"email\": \"a\\u0000@x.com\", \"role\": \"user\"}]}",
        )
        .await
        .err(400, "VALIDATION_ERROR");
    server
        .client()
        .post(
            ROUTE,
            json!({ "invites": [{ "email": "a@example.com", "role": "user" }] }),
        )
        .await
        .err(401, "UNAUTHORIZED");
    assert_eq!(server.events(Some("Created")).await, 0);
}

#[tokio::test]
async fn an_inviter_without_permission_gets_every_row_refused() {
    let server = TestServer::start().await;
    let user = server.user_with_role("plain@example.com", "user").await;
    let answer = user
        .post(
            ROUTE,
            json!({ "invites": [{ "email": "a@example.com", "role": "user" }] }),
        )
        .await
        .ok();
    assert_eq!(answer["created"], 0);
    assert_eq!(
        rows(&answer)[0]["error"]["code"],
        "INSUFFICIENT_PERMISSIONS"
    );
    assert_eq!(server.events(Some("Created")).await, 0);
}
