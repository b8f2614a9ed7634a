//! Email domain rules (`INVITE_ALLOWED_DOMAINS`, `INVITE_DENIED_DOMAINS`):
//! private invites, bulk rows and invite-only sign-ups through a public
//! invite are refused with `403 EMAIL_DOMAIN_NOT_ALLOWED` outside them.

use serde_json::json;

use crate::helpers::TestServer;

async fn invite(server: &TestServer, role: &str, email: &str) -> crate::helpers::Reply {
    server
        .admin()
        .await
        .post(
            "/api/auth/invite/create",
            json!({ "role": role, "email": email }),
        )
        .await
}

#[tokio::test]
async fn only_allowed_domains_exact_or_explicit_subdomains_case_insensitive() {
    let server =
        TestServer::start_with(&["--invite-allowed-domains", "acme.com, *.partner.org"]).await;
    for email in ["bob@acme.com", "Carol@ACME.Com", "dan@eu.partner.org"] {
        invite(&server, "user", email).await.ok();
    }
    for email in [
        "eve@gmail.com",
        "fay@eu.acme.com",
        "gus@partner.org",
        "hal@acme.com.evil.io",
    ] {
        let body = invite(&server, "user", email)
            .await
            .err(403, "EMAIL_DOMAIN_NOT_ALLOWED");
        assert!(body["message"].as_str().unwrap().contains('`'), "{body}");
    }
    assert_eq!(server.events(Some("Created")).await, 3);
    // Public invites name no email: no rule applies to their creation.
    server
        .admin()
        .await
        .create_invite(json!({ "role": "user" }))
        .await;
}

#[tokio::test]
async fn denied_domains_and_rules_per_role() {
    let server = TestServer::start_with(&[
        "--invite-denied-domains",
        "gmail.com,*.gmail.com",
        "--invite-allowed-domains",
        "admin:acme.com",
    ])
    .await;
    invite(&server, "user", "x@gmail.com")
        .await
        .err(403, "EMAIL_DOMAIN_NOT_ALLOWED");
    invite(&server, "user", "x@mail.gmail.com")
        .await
        .err(403, "EMAIL_DOMAIN_NOT_ALLOWED");
    invite(&server, "user", "x@example.org").await.ok();
    invite(&server, "admin", "x@example.org")
        .await
        .err(403, "EMAIL_DOMAIN_NOT_ALLOWED");
    invite(&server, "admin", "boss@acme.com").await.ok();
}

#[tokio::test]
async fn internationalized_domains_compare_in_ascii() {
    let server = TestServer::start_with(&["--invite-allowed-domains", "bücher.example"]).await;
    invite(&server, "user", "anna@xn--bcher-kva.example")
        .await
        .ok();
    invite(&server, "user", "berta@BÜCHER.example").await.ok();
    invite(&server, "user", "carl@buecher.example")
        .await
        .err(403, "EMAIL_DOMAIN_NOT_ALLOWED");
}

#[tokio::test]
async fn bulk_rows_outside_the_rules_are_refused_on_their_own() {
    let server = TestServer::start_with(&["--invite-allowed-domains", "acme.com"]).await;
    let answer = server
        .admin()
        .await
        .post(
            "/api/auth/invite/create-many",
            json!({ "invites": [
                { "email": "in@acme.com", "role": "user" },
                { "email": "out@gmail.com", "role": "user" },
            ]}),
        )
        .await
        .ok();
    assert_eq!(answer["created"], 1);
    let single = invite(&server, "user", "out@gmail.com")
        .await
        .err(403, "EMAIL_DOMAIN_NOT_ALLOWED");
    assert_eq!(answer["invites"][1]["error"], single);
}

#[tokio::test]
async fn invite_only_sign_up_through_a_public_invite_follows_the_rules() {
    let server = TestServer::start_with(&[
        "--invite-only",
        "true",
        "--invite-allowed-domains",
        "acme.com",
    ])
    .await;
    let token = server
        .admin()
        .await
        .create_invite(json!({ "role": "user", "maxUses": 5 }))
        .await;

    let outsider = server.client();
    outsider.activate(&token).await.ok();
    outsider
        .sign_up("x@gmail.com", "password1", "Outsider")
        .await
        .err(403, "EMAIL_DOMAIN_NOT_ALLOWED");
    assert_eq!(server.events(Some("Registered")).await, 1, "only the admin");

    let insider = server.client();
    insider.activate(&token).await.ok();
    let signed_up = insider
        .sign_up("y@acme.com", "password1", "Insider")
        .await
        .ok();
    assert_eq!(signed_up["user"]["role"], "user");
}

#[tokio::test]
async fn a_mistake_in_the_lists_stops_the_start_and_names_the_variable() {
    let db = crate::helpers::TestDb::new().await;
    let output = crate::helpers::process::binary(
        &db,
        &["serve"],
        &[("INVITE_ALLOWED_DOMAINS", "acme..com"), ("PORT", "0")],
    )
    .stderr(std::process::Stdio::piped())
    .output()
    .await
    .unwrap();
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("INVITE_ALLOWED_DOMAINS") && log.contains("acme..com"),
        "{log}"
    );
}

/// Without `INVITE_ONLY`, anyone may sign up, but a public invite's role still
/// goes only to emails the rules allow: used while signed in by another, it
/// is refused and the account keeps its role.
#[tokio::test]
async fn a_public_invite_used_by_an_open_account_follows_the_rules() {
    let server = TestServer::start_with(&["--invite-allowed-domains", "acme.com"]).await;
    let token = server
        .admin()
        .await
        .create_invite(json!({ "role": "admin", "maxUses": 5 }))
        .await;

    let outsider = server.client();
    outsider
        .sign_up("x@gmail.com", "password1", "Outsider")
        .await
        .ok();
    outsider
        .activate(&token)
        .await
        .err(403, "EMAIL_DOMAIN_NOT_ALLOWED");
    assert_eq!(outsider.role().await, "user");

    let insider = server.client();
    insider
        .sign_up("y@acme.com", "password1", "Insider")
        .await
        .ok();
    insider.activate(&token).await.ok();
    assert_eq!(insider.role().await, "admin");
}
