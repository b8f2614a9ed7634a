//! Guessing is slow everywhere: wrong passwords per address and per account,
//! invite-token guesses through the invite cookie on sign-in and sign-up as on
//! every other lookup, all answered `429 TOO_MANY_REQUESTS` with `Retry-After`,
//! with counters in PostgreSQL so that replicas share them, and client
//! addresses from `X-Forwarded-For` only behind a trusted proxy.

use std::sync::Arc;

use crate::helpers::{Client, Reply, TestServer};
use invite_ledger::clock::{Clock, ManualClock};
use serde_json::{json, Value};

/// A POST with extra headers and no cookie jar.
async fn post(base: &str, path: &str, headers: &[(&str, String)], body: Value) -> Reply {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    Client::reply(request.send().await.unwrap()).await
}

fn base(server: &TestServer) -> String {
    format!("http://{}", server.addr)
}

fn wrong_password() -> Value {
    json!({ "email": crate::helpers::ADMIN_EMAIL, "password": "not-the-password" })
}

fn right_password() -> Value {
    json!({ "email": crate::helpers::ADMIN_EMAIL, "password": crate::helpers::ADMIN_PASSWORD })
}

/// Asserts a 429 with a positive `Retry-After`.
fn assert_limited(reply: Reply) {
    let wait: u64 = reply
        .headers
        .get("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {} {}", reply.status, reply.body))
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    reply.err(429, "TOO_MANY_REQUESTS");
}

/// A server that lets each address try to sign in three times, in a window
/// longer than any run of these tests, however busy the machine.
async fn three_sign_ins_per_address() -> TestServer {
    TestServer::start_with(&[
        "--sign-in-attempts-per-address",
        "3",
        "--sign-in-window-secs",
        "3600",
    ])
    .await
}

#[tokio::test]
async fn three_hundred_wrong_passwords_from_one_address_meet_429s() {
    let server = three_sign_ins_per_address().await;
    let mut statuses = Vec::new();
    for _ in 0..300 {
        let reply = post(
            &base(&server),
            "/api/auth/sign-in/email",
            &[],
            wrong_password(),
        )
        .await;
        statuses.push(reply.status.as_u16());
        if reply.status == 429 {
            assert_limited(reply);
        }
    }
    assert_eq!(statuses[..3], [401, 401, 401]);
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    // The right password waits its turn too: the address is over its budget.
    assert_limited(
        post(
            &base(&server),
            "/api/auth/sign-in/email",
            &[],
            right_password(),
        )
        .await,
    );
}

#[tokio::test]
async fn wrong_passwords_for_one_account_are_limited_across_addresses() {
    let server = TestServer::start_with(&[
        "--trusted-proxies",
        "127.0.0.1",
        "--sign-in-attempts-per-address",
        "3",
        "--sign-in-failures-per-account",
        "10",
        "--sign-in-account-window-secs",
        "3600",
    ])
    .await;
    let from = |i: usize| [("x-forwarded-for", format!("198.51.100.{}", i % 250))];
    let mut statuses = Vec::new();
    for i in 0..300 {
        let reply = post(
            &base(&server),
            "/api/auth/sign-in/email",
            &from(i),
            wrong_password(),
        )
        .await;
        statuses.push(reply.status.as_u16());
        if reply.status == 429 {
            assert_limited(reply);
        }
    }
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    // Another account is not affected, from a fresh address.
    let user = server.client();
    user.sign_up("other@example.com", "password1", "Other")
        .await
        .ok();
    post(
        &base(&server),
        "/api/auth/sign-in/email",
        &[("x-forwarded-for", "192.0.2.1".into())],
        json!({ "email": "other@example.com", "password": "password1" }),
    )
    .await
    .ok();
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let server = three_sign_ins_per_address().await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let spoofed = [("x-forwarded-for", format!("203.0.113.{i}"))];
        let reply = post(
            &base(&server),
            "/api/auth/sign-in/email",
            &spoofed,
            wrong_password(),
        )
        .await;
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429, 429]);
}

#[tokio::test]
async fn three_hundred_invite_cookie_guesses_on_sign_in_meet_429s() {
    let server = TestServer::start_with(&["--activation-attempts-per-minute", "30"]).await;
    let admin = server.admin().await;
    let code = admin
        .create_invite(json!({ "role": "admin", "tokenType": "code" }))
        .await;
    let guesser = server.client();
    guesser
        .sign_up("guesser@example.com", "password1", "G")
        .await
        .ok();
    let credentials = json!({ "email": "guesser@example.com", "password": "password1" });
    let mut statuses = Vec::new();
    for i in 0..300 {
        let cookie = [("cookie", format!("better-auth.invite-token=G{i:05}"))];
        let reply = post(
            &base(&server),
            "/api/auth/sign-in/email",
            &cookie,
            credentials.clone(),
        )
        .await;
        statuses.push(reply.status.as_u16());
        if reply.status == 200 {
            assert_eq!(
                reply.body["invite"]["code"], "INVALID_TOKEN",
                "{}",
                reply.body
            );
        } else {
            assert_limited(reply);
        }
    }
    assert!(statuses[..30].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses[30..].iter().all(|s| *s == 429), "{statuses:?}");
    // The right code, now, is refused before it is looked up: no admin role.
    let cookie = [("cookie", format!("better-auth.invite-token={code}"))];
    assert_limited(
        post(
            &base(&server),
            "/api/auth/sign-in/email",
            &cookie,
            credentials.clone(),
        )
        .await,
    );
    // Sign-up's cookie is the same lookup, on the same budget.
    let signup = json!({ "email": "second@example.com", "password": "password1", "name": "S" });
    assert_limited(post(&base(&server), "/api/auth/sign-up/email", &cookie, signup).await);
    assert_eq!(server.events(Some("Used")).await, 0);
    assert_eq!(guesser.role().await, "user");
}

#[tokio::test]
async fn invite_cookie_guesses_on_sign_up_count_too() {
    let server = TestServer::start_with(&["--activation-attempts-per-minute", "3"]).await;
    for i in 0..3 {
        let cookie = [("cookie", format!("better-auth.invite-token=G{i:05}"))];
        let body =
            json!({ "email": format!("s{i}@example.com"), "password": "password1", "name": "S" });
        let reply = post(&base(&server), "/api/auth/sign-up/email", &cookie, body).await;
        assert_eq!(
            reply.body["invite"]["code"], "INVALID_TOKEN",
            "{}",
            reply.body
        );
    }
    server
        .client()
        .invite_info("ABCDEF")
        .await
        .err(429, "TOO_MANY_REQUESTS");
}

/// Serves another replica's router (its own process state, the same database).
async fn serve_replica(server: &TestServer) -> (String, Vec<tokio::task::JoinHandle<()>>) {
    let clock = Arc::new(ManualClock::new(server.clock.now()));
    let (app, mut tasks) = crate::helpers::replica(
        &server.db,
        clock,
        &["--activation-attempts-per-minute", "4"],
    )
    .await;
    let (addr, serving) = crate::helpers::serve_http(app).await;
    tasks.push(serving);
    (format!("http://{addr}"), tasks)
}

#[tokio::test]
async fn replicas_share_one_budget() {
    let server = TestServer::start_with(&["--activation-attempts-per-minute", "4"]).await;
    let (replica, tasks) = serve_replica(&server).await;
    let guess = |i: usize| json!({ "token": format!("R{i:05}") });
    for (i, base) in [base(&server), replica.clone()]
        .iter()
        .cycle()
        .take(4)
        .enumerate()
    {
        post(base, "/api/auth/invite/activate", &[], guess(i))
            .await
            .err(400, "INVALID_TOKEN");
    }
    for base in [base(&server), replica] {
        assert_limited(post(&base, "/api/auth/invite/activate", &[], guess(99)).await);
    }
    for task in tasks {
        task.abort();
    }
}
