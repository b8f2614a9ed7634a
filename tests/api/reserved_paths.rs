//! `/api/auth/invite/list` is not an invite's link: a reserved path (Better
//! Auth's plugin lists invites there), answered `404 NOT_FOUND` without
//! counting a guess or setting a cookie.

use crate::helpers::TestServer;

#[tokio::test]
async fn invite_list_is_reserved_not_a_token() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let reply = admin.get("/api/auth/invite/list").await;
    assert!(reply.set_cookies().is_empty(), "{:?}", reply.set_cookies());
    let body = reply.err(404, "NOT_FOUND");
    assert!(
        body["message"].as_str().unwrap().contains("reserved"),
        "{body}"
    );
    let guesses: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rate_limit WHERE bucket LIKE 'token-guess:%'")
            .fetch_one(server.pool())
            .await
            .unwrap();
    assert_eq!(guesses, 0, "counted as a failed guess");
}
