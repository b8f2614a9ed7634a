//! Bad input on every endpoint: each answer is a 4xx with `{code, message}`,
//! never a 5xx, and a refusal writes nothing (no event, account or session).

use crate::helpers::{Client, Reply, TestServer};
use serde_json::{json, Value};

const JSON: &str = "application/json";

/// A server whose guessing limit stays out of the way of these many refusals.
async fn server() -> TestServer {
    TestServer::start_with(&["--activation-attempts-per-minute", "100000"]).await
}

/// Counts of everything a request could write.
async fn written(server: &TestServer) -> (i64, i64, i64) {
    // The read models fold writes after they answer: count a settled state.
    server.read_models_caught_up().await;
    let count = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(server.pool().await)
            .await
            .unwrap()
    };
    (
        count("events").await,
        count("user_account").await,
        count("session").await,
    )
}

/// Sends each raw body to `path` and asserts a refusal with nothing written.
async fn refuses_raw(server: &TestServer, client: &Client, path: &str, cases: &[(&str, &str)]) {
    let before = written(server).await;
    for (content_type, body) in cases {
        let reply = client.post_raw(path, content_type, body).await;
        assert_refused(reply, path, body);
    }
    assert_eq!(written(server).await, before, "{path} wrote nothing");
}

/// Sends each JSON body to `path` and asserts a refusal with nothing written.
async fn refuses(server: &TestServer, client: &Client, path: &str, cases: &[Value]) {
    let before = written(server).await;
    for body in cases {
        let reply = client.post(path, body.clone()).await;
        assert_refused(reply, path, &body.to_string());
    }
    assert_eq!(written(server).await, before, "{path} wrote nothing");
}

fn assert_refused(reply: Reply, what: &str, body: &str) -> Value {
    let shown: String = body.chars().take(80).collect();
    assert!(
        reply.status.is_client_error(),
        "{what} {shown}: expected a 4xx, got {} {}",
        reply.status,
        reply.body
    );
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with(JSON),
        "{what} {shown}: {:?}",
        reply.headers
    );
    reply.refused()
}

/// Malformed bodies every JSON endpoint must refuse the same way.
fn malformed() -> Vec<(&'static str, &'static str)> {
    vec![
        (JSON, "{\"email\":"),
        (JSON, "not json"),
        (JSON, ""),
        (JSON, "[]"),
        (JSON, "null"),
        (JSON, "42"),
        (JSON, "\"a string\""),
        ("text/plain", "{}"),
        ("application/x-www-form-urlencoded", "token=abc&role=admin"),
        ("multipart/form-data; boundary=x", "--x--"),
    ]
}

fn long(n: usize) -> String {
    "a".repeat(n)
}

#[tokio::test]
async fn sign_up_refuses_bad_input() {
    let server = server().await;
    let visitor = server.client();
    let path = "/api/auth/sign-up/email";
    refuses_raw(&server, &visitor, path, &malformed()).await;
    let ok = json!({ "email": "new@example.com", "password": "password1", "name": "New" });
    let with = |field: &str, value: Value| {
        let mut body = ok.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = ok.clone();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let mut cases = vec![
        json!({}),
        without("email"),
        without("password"),
        without("name"),
    ];
    for field in ["email", "password", "name"] {
        cases.extend([
            with(field, json!(5)),
            with(field, json!(true)),
            with(field, json!(["x"])),
            with(field, json!({})),
            with(field, Value::Null),
            with(field, json!("")),
        ]);
    }
    cases.extend([
        with("email", json!("not-an-email")),
        with("email", json!("@example.com")),
        with("email", json!("a@b")),
        with("email", json!("a b@example.com")),
        with("email", json!(format!("{}@example.com", long(300)))),
        with("password", json!("short")),
        with("password", json!(long(129))),
        with("password", json!(long(100_000))),
        with("name", json!("   ")),
        with("name", json!(long(201))),
        with("email", json!(crate::helpers::ADMIN_EMAIL)),
        with("email", json!("ADMIN@Example.com")),
    ]);
    refuses(&server, &visitor, path, &cases).await;

    let taken = visitor
        .post(path, with("email", json!("Admin@Example.com")))
        .await;
    taken.err(422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");
}

#[tokio::test]
async fn sign_in_refuses_bad_input_and_wrong_passwords() {
    let server = server().await;
    let visitor = server.client();
    let path = "/api/auth/sign-in/email";
    refuses_raw(&server, &visitor, path, &malformed()).await;
    let cases = [
        json!({}),
        json!({ "email": crate::helpers::ADMIN_EMAIL }),
        json!({ "password": crate::helpers::ADMIN_PASSWORD }),
        json!({ "email": 5, "password": crate::helpers::ADMIN_PASSWORD }),
        json!({ "email": crate::helpers::ADMIN_EMAIL, "password": 5 }),
        json!({ "email": "", "password": "" }),
        json!({ "email": crate::helpers::ADMIN_EMAIL, "password": "" }),
        json!({ "email": crate::helpers::ADMIN_EMAIL, "password": long(100_000) }),
        json!({ "email": long(100_000), "password": "password1" }),
    ];
    refuses(&server, &visitor, path, &cases).await;
    visitor
        .sign_in(crate::helpers::ADMIN_EMAIL, "wrong-password")
        .await
        .err(401, "INVALID_EMAIL_OR_PASSWORD");
    visitor
        .sign_in("nobody@example.com", crate::helpers::ADMIN_PASSWORD)
        .await
        .err(401, "INVALID_EMAIL_OR_PASSWORD");
    assert!(visitor.get("/api/auth/get-session").await.body.is_null());
}

#[tokio::test]
async fn invite_create_refuses_bad_input() {
    let server = server().await;
    let admin = server.admin().await;
    let path = "/api/auth/invite/create";
    refuses_raw(&server, &admin, path, &malformed()).await;
    let with = |field: &str, value: Value| {
        let mut body = json!({ "role": "user" });
        body[field] = value;
        body
    };
    let mut cases = vec![
        json!({}),
        json!({ "role": 5 }),
        json!({ "role": null }),
        json!({ "role": ["admin"] }),
        json!({ "role": "" }),
        json!({ "role": long(10_000) }),
        // A misspelt option must not silently fall back to its default.
        with("maxUse", json!(100)),
        with("expiresin", json!(999_999)),
    ];
    for value in [
        json!(-1),
        json!(0),
        json!(1.5),
        json!("3"),
        json!(true),
        json!(1_000_000_000_000_i64),
        json!(1e30),
        json!(i64::MIN),
    ] {
        cases.push(with("maxUses", value.clone()));
        cases.push(with("expiresIn", value));
    }
    for field in [
        "email",
        "redirectToSignUp",
        "redirectToSignIn",
        "redirectToAfterUpgrade",
    ] {
        cases.extend([with(field, json!(5)), with(field, json!(""))]);
    }
    cases.extend([
        with("email", json!("not-an-email")),
        with("email", json!(format!("{}@example.com", long(300)))),
        with("redirectToSignUp", json!(format!("/{}", long(10_000)))),
        with("tokenType", json!("bogus")),
        with("tokenType", json!("TOKEN")),
        with("senderResponse", json!("email")),
        with("senderResponseRedirect", json!("home")),
        with("shareInviterName", json!("yes")),
    ]);
    refuses(&server, &admin, path, &cases).await;
    assert!(server.mailer.0.lock().unwrap().is_empty());

    let user = server.user_with_role("user@example.com", "user").await;
    let before = written(&server).await;
    user.post(path, json!({ "role": "user" }))
        .await
        .err(400, "INSUFFICIENT_PERMISSIONS");
    server
        .client()
        .post(path, json!({ "role": "user" }))
        .await
        .err(401, "UNAUTHORIZED");
    assert_eq!(written(&server).await, before);
}

#[tokio::test]
async fn invite_activate_refuses_bad_input_and_unknown_tokens() {
    let server = server().await;
    let visitor = server.client();
    let path = "/api/auth/invite/activate";
    refuses_raw(&server, &visitor, path, &malformed()).await;
    let cases = [
        json!({}),
        json!({ "token": 5 }),
        json!({ "token": ["x"] }),
        json!({ "token": "" }),
        json!({ "token": "NOSUCH" }),
        json!({ "token": long(100_000) }),
        json!({ "token": "x", "callbackURL": 5 }),
    ];
    refuses(&server, &visitor, path, &cases).await;
    visitor
        .post(path, json!({}))
        .await
        .err(400, "MISSING_TOKEN");
    visitor.activate("NOSUCH").await.err(400, "INVALID_TOKEN");
    assert!(server
        .client()
        .activate("NOSUCH")
        .await
        .cookie("better-auth.invite-token")
        .is_none());
}

#[tokio::test]
async fn invite_get_refuses_bad_input_and_unknown_tokens() {
    let server = server().await;
    let visitor = server.client();
    let before = written(&server).await;
    for query in [
        "",
        "?",
        "?token=",
        "?tok=abc",
        "?token=NOSUCH",
        "?token=%FF%FE",
        "?token=a&token=b",
    ] {
        let reply = visitor.get(&format!("/api/auth/invite/get{query}")).await;
        assert_refused(reply, "GET invite/get", query);
    }
    visitor
        .invite_info("NOSUCH")
        .await
        .err(400, "INVALID_TOKEN");
    assert_eq!(written(&server).await, before);
    refuses_raw(&server, &visitor, "/api/auth/invite/get", &malformed()).await;
    refuses(
        &server,
        &visitor,
        "/api/auth/invite/get",
        &[
            json!({}),
            json!({ "token": 5 }),
            json!({ "token": "NOSUCH" }),
        ],
    )
    .await;
}

#[tokio::test]
async fn invite_link_survives_bad_input() {
    let server = server().await;
    let visitor = server.client();
    let before = written(&server).await;

    // An unknown token in a link sends the browser back with the reason.
    let link = visitor.get("/api/auth/invite/NOSUCH").await;
    assert_eq!(link.status, 303);
    assert_eq!(
        link.location(),
        "/auth/sign-up?error=INVALID_TOKEN&message=Invalid+invite+token"
    );
    assert!(link.cookie("better-auth.invite-token").is_none());

    for path in [
        "/api/auth/invite/%FF%FE",
        "/api/auth/invite/x?callbackURL=/a&callbackURL=/b",
        "/api/auth/invite/x?callbackURL=%FF",
    ] {
        let reply = visitor.get(path).await;
        assert_refused(reply, "GET invite link", path);
    }
    assert_eq!(written(&server).await, before);
}

#[tokio::test]
async fn cancel_and_reject_refuse_bad_input_and_unknown_tokens() {
    let server = server().await;
    let admin = server.admin().await;
    for path in ["/api/auth/invite/cancel", "/api/auth/invite/reject"] {
        refuses_raw(&server, &admin, path, &malformed()).await;
        let cases = [
            json!({}),
            json!({ "token": 5 }),
            json!({ "token": null }),
            json!({ "token": "" }),
            json!({ "token": "NOSUCH" }),
            json!({ "token": long(100_000) }),
        ];
        refuses(&server, &admin, path, &cases).await;
        admin
            .post(path, json!({ "token": "NOSUCH" }))
            .await
            .err(400, "INVALID_TOKEN");
        server
            .client()
            .post(path, json!({ "token": "NOSUCH" }))
            .await
            .err(401, "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn set_role_refuses_bad_input() {
    let server = server().await;
    let admin = server.admin().await;
    let user = server.client();
    let id = user
        .sign_up("user@example.com", "password1", "U")
        .await
        .ok()["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = "/api/auth/admin/set-role";
    refuses_raw(&server, &admin, path, &malformed()).await;
    let cases = [
        json!({}),
        json!({ "userId": id }),
        json!({ "role": "admin" }),
        json!({ "userId": 5, "role": "admin" }),
        json!({ "userId": id, "role": 5 }),
        json!({ "userId": id, "role": "" }),
        json!({ "userId": id, "role": "superuser" }),
        json!({ "userId": id, "role": long(10_000) }),
        json!({ "userId": "", "role": "admin" }),
        json!({ "userId": "no-such-user", "role": "admin" }),
        json!({ "userId": long(10_000), "role": "admin" }),
    ];
    refuses(&server, &admin, path, &cases).await;
    admin
        .post(path, json!({ "userId": "no-such-user", "role": "admin" }))
        .await
        .err(404, "USER_NOT_FOUND");
    admin
        .post(path, json!({ "userId": id, "role": "superuser" }))
        .await
        .err(400, "ROLE_NOT_CONFIGURED");
    refuses(
        &server,
        &user,
        path,
        &[json!({ "userId": id, "role": "admin" })],
    )
    .await;
    refuses(
        &server,
        &server.client(),
        path,
        &[json!({ "userId": id, "role": "admin" })],
    )
    .await;
    assert_eq!(user.role().await, "user");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let server = server().await;
    let client = server.client();
    let not_found = client.get("/api/auth/no-such-route").await;
    assert_refused(not_found, "GET", "no-such-route");
    for path in [
        "/api/auth/sign-up/email",
        "/api/auth/invite/create",
        "/api/auth/invite/cancel",
    ] {
        let reply = client.get(path).await;
        assert_eq!(reply.status, 405, "{path}");
        assert_refused(reply, "GET", path);
    }
    let reply = client.post("/api/auth/get-session", json!({})).await;
    assert_eq!(reply.status, 405);
    assert_refused(reply, "POST", "get-session");
}
