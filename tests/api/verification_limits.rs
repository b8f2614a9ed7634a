//! `VERIFICATION_EMAILS_PER_EMAIL`: past the limit an address gets no more
//! verification links within the hour, and the answer does not say so (it is
//! the same for every address, known or not).

use crate::helpers::TestServer;
use serde_json::json;

/// Verification links made for `user_id` (each is one email and one event).
async fn links_made(server: &TestServer, user_id: &str) -> (i64, i64) {
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events
          WHERE aggregate_id = $1 AND event_type = 'VerificationEmailRequested'",
    )
    .bind(user_id)
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    let links: i64 =
        sqlx::query_scalar("SELECT count(*) FROM email_verification WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(server.pool().await)
            .await
            .unwrap();
    (events, links)
}

#[tokio::test]
async fn an_address_gets_at_most_the_limit_of_verification_links_an_hour() {
    let server = TestServer::start_with(&["--verification-emails-per-email", "2"]).await;
    let vera = server.client();
    let user = vera
        .sign_up("vera@example.com", "password1", "Vera")
        .await
        .ok();
    let user_id = user["user"]["id"].as_str().unwrap().to_string();
    let before = links_made(&server, &user_id).await;

    let visitor = server.client();
    let mut answers = Vec::new();
    for _ in 0..4 {
        let reply = visitor
            .post(
                "/api/auth/send-verification-email",
                json!({ "email": "vera@example.com" }),
            )
            .await;
        answers.push((reply.status.as_u16(), reply.body));
    }
    let first = answers[0].clone();
    assert_eq!(first.0, 200, "{:?}", first.1);
    assert!(
        answers.iter().all(|answer| *answer == first),
        "every answer is the same: {answers:?}"
    );
    let after = links_made(&server, &user_id).await;
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (2, 2),
        "two links of four asked (a sign-up made {before:?})"
    );
}
