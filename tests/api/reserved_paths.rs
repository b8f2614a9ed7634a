//! `/api/auth/invite/list` is the plugin's list of invites, never an invite's
//! link: it counts no failed guess and sets no invite cookie.

use crate::helpers::TestServer;

#[tokio::test]
async fn invite_list_is_a_route_not_a_token() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let reply = admin.get("/api/auth/invite/list").await;
    assert!(reply.set_cookies().is_empty(), "{:?}", reply.set_cookies());
    let body = reply.ok();
    assert_eq!(body["total"], 0, "{body}");
    let guesses: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rate_limit WHERE bucket LIKE 'token-guess:%'")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
    assert_eq!(guesses, 0, "counted as a failed guess");
}
