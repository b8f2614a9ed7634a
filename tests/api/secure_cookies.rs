//! Under an https base URL the cookies carry the `__Secure-` prefix, as Better
//! Auth's do, and both the prefixed and the plain names are read.

use crate::helpers::TestServer;
use serde_json::{json, Value};

const SESSION: &str = "better-auth.session_token";
const INVITE: &str = "better-auth.invite-token";

async fn session_with_cookie(server: &TestServer, cookie: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("http://{}/api/auth/get-session", server.addr))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn https_cookies_are_set_with_the_secure_prefix_and_read_under_both_names() {
    let server = TestServer::start_with(&["--base-url", "https://auth.example.com"]).await;
    let signed_in = server
        .client()
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    let cookie = signed_in
        .cookie(&format!("__Secure-{SESSION}"))
        .expect("a __Secure- session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(signed_in.cookie(SESSION).is_none());
    let token = signed_in.ok()["token"].as_str().unwrap().to_string();

    for name in [format!("__Secure-{SESSION}"), SESSION.to_string()] {
        let session = session_with_cookie(&server, &format!("{name}={token}")).await;
        assert_eq!(
            session["user"]["email"],
            crate::helpers::ADMIN_EMAIL,
            "{name}"
        );
    }

    let admin = server.bearer_client(&token);
    let invite = admin.create_invite(json!({ "role": "user" })).await;
    let activated = server.client().activate(&invite).await;
    assert!(activated.cookie(&format!("__Secure-{INVITE}")).is_some());
    assert!(activated.cookie(INVITE).is_none());
}

#[tokio::test]
async fn plain_http_cookies_keep_their_names() {
    let server = TestServer::start().await;
    let signed_in = server
        .client()
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    assert!(signed_in.cookie(SESSION).is_some());
    assert!(signed_in.cookie(&format!("__Secure-{SESSION}")).is_none());
}
