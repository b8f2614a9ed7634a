//! Browsers on trusted origins may call the API with credentials; others may not.

use crate::helpers::TestServer;

async fn preflight(server: &TestServer, origin: &str) -> reqwest::Response {
    server
        .client()
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{}/api/auth/invite/create", server.addr),
        )
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn trusted_origins_get_credentialed_cors_and_others_do_not() {
    let server = TestServer::start_with(&["--trusted-origins", "https://app.example.com"]).await;

    let trusted = preflight(&server, "https://app.example.com").await;
    assert_eq!(
        trusted.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(
        trusted.headers()["access-control-allow-credentials"],
        "true"
    );

    let base = preflight(&server, "http://localhost:3000").await;
    assert_eq!(
        base.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );

    let stranger = preflight(&server, "https://evil.example").await;
    assert!(stranger
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}
