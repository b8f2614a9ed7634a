//! The companion API (`/api/companion/*`, docs/companion-protocol.md) as a
//! Better Auth server's plugin uses it: scoped keys, invites in the name of
//! Better Auth users, seats for sign-ups that never outnumber `maxUses`, seats
//! settled by asking the plugin, and signed role deliveries. A small axum
//! server plays the plugin's callback.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::helpers::{eventually, Client, Reply, TestServer};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use invite_ledger::auth::api_keys::{self, Scope};
use serde_json::{json, Value};
use sha2::Sha256;

/// One call the ledger made to the plugin's callback.
#[derive(Debug, Clone)]
struct Call {
    signature: String,
    body: Bytes,
}

impl Call {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct PluginState {
    calls: Mutex<Vec<Call>>,
    /// The Better Auth users that exist, as `user.exists` answers.
    users: Mutex<HashSet<String>>,
    /// Answer every call with a 503, as a plugin that is down.
    down: std::sync::atomic::AtomicBool,
}

/// The plugin's callback: keeps every call, answers `user.exists` from `users`.
struct FakePlugin {
    addr: SocketAddr,
    state: Arc<PluginState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakePlugin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn callback(
    State(state): State<Arc<PluginState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, axum::http::StatusCode> {
    let signature = headers
        .get("x-invite-ledger-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let call = Call { signature, body };
    let request = call.json();
    state.calls.lock().unwrap().push(call);
    if state.down.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(axum::http::StatusCode::SERVICE_UNAVAILABLE);
    }
    Ok(match request["type"].as_str() {
        Some("user.exists") => {
            let id = request["userId"].as_str().unwrap_or_default();
            Json(json!({ "exists": state.users.lock().unwrap().contains(id) }))
        }
        _ => Json(json!({ "applied": true })),
    })
}

impl FakePlugin {
    async fn start() -> FakePlugin {
        let state = Arc::new(PluginState::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/api/auth/invite/ledger-sync", post(callback))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakePlugin { addr, state, task }
    }

    fn url(&self) -> String {
        format!("http://{}/api/auth/invite/ledger-sync", self.addr)
    }

    fn calls_of(&self, kind: &str) -> Vec<Call> {
        self.state
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.json()["type"] == kind)
            .cloned()
            .collect()
    }

    fn user_exists(&self, id: &str) {
        self.state.users.lock().unwrap().insert(id.to_string());
    }
}

/// A plugin's view of the ledger: its key, its callback, its signing secret.
struct Companion {
    key: String,
    http: reqwest::Client,
    base: String,
    secret: String,
}

impl Companion {
    /// A companion key that has said `hello` with `plugin`'s callback.
    async fn connect(server: &TestServer, plugin: &FakePlugin) -> Companion {
        let key = api_keys::create_scoped(server.pool().await, "plugin", Scope::Companion)
            .await
            .unwrap()
            .key;
        let mut companion = Companion {
            key,
            http: reqwest::Client::new(),
            base: format!("http://{}", server.addr),
            secret: String::new(),
        };
        let welcome = companion
            .post(
                "/api/companion/hello",
                json!({ "callbackUrl": plugin.url() }),
            )
            .await
            .ok();
        companion.secret = welcome["signingSecret"].as_str().unwrap().to_string();
        assert_eq!(welcome["inviteOnly"], false);
        companion
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.post_with(path, body, None).await
    }

    async fn post_with(&self, path: &str, body: Value, idempotency_key: Option<&str>) -> Reply {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        Client::reply(request.send().await.unwrap()).await
    }

    /// Creates a public invite as the Better Auth admin `ba-admin`.
    async fn public_invite(&self, role: &str, max_uses: u32) -> String {
        let created = self
            .post(
                "/api/companion/invite/create",
                json!({ "actor": admin(), "role": role, "maxUses": max_uses,
                        "delivery": "plugin" }),
            )
            .await
            .ok();
        created["token"].as_str().unwrap().to_string()
    }
}

fn admin() -> Value {
    json!({ "id": "ba-admin", "email": "boss@acme.com", "name": "Boss", "role": "admin" })
}

fn user(id: &str) -> Value {
    json!({ "id": id, "email": format!("{id}@acme.com"), "name": format!("User {id}") })
}

async fn audit_get(server: &TestServer, key: &str, path: &str) -> Reply {
    let response = reqwest::Client::new()
        .get(format!("http://{}{path}", server.addr))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap();
    Client::reply(response).await
}

async fn count_events(server: &TestServer, event_type: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(server.pool().await)
        .await
        .unwrap()
}

fn fast_reactors() -> Vec<&'static str> {
    vec![
        "--companion-reservation-ttl-ms",
        "300",
        "--delivery-retry-base-ms",
        "100",
    ]
}

#[tokio::test]
async fn each_key_calls_only_the_api_of_its_scope() {
    let server = TestServer::start().await;
    let plugin = FakePlugin::start().await;
    let audit_key = api_keys::create(server.pool().await, "reports")
        .await
        .unwrap()
        .key;
    let companion_key = api_keys::create_scoped(server.pool().await, "plugin", Scope::Companion)
        .await
        .unwrap()
        .key;
    let post = |key: Option<String>, path: &'static str, body: Value| {
        let base = format!("http://{}", server.addr);
        async move {
            let mut request = reqwest::Client::new()
                .post(format!("{base}{path}"))
                .json(&body);
            if let Some(key) = key {
                request = request.bearer_auth(key);
            }
            Client::reply(request.send().await.unwrap()).await
        }
    };
    let hello = json!({ "callbackUrl": plugin.url() });

    post(None, "/api/companion/hello", hello.clone())
        .await
        .err(401, "UNAUTHORIZED");
    post(
        Some("ilk_not-a-key".into()),
        "/api/companion/hello",
        hello.clone(),
    )
    .await
    .err(403, "INVALID_API_KEY");
    post(
        Some(audit_key.clone()),
        "/api/companion/hello",
        hello.clone(),
    )
    .await
    .err(403, "API_KEY_SCOPE");
    audit_get(&server, &companion_key, "/api/ledger/invites")
        .await
        .err(403, "API_KEY_SCOPE");
    audit_get(&server, &audit_key, "/api/ledger/invites")
        .await
        .ok();

    // Before `hello`, the ledger does not know where to reach the plugin.
    let create = json!({ "actor": admin(), "role": "user" });
    post(
        Some(companion_key.clone()),
        "/api/companion/invite/create",
        create.clone(),
    )
    .await
    .err(409, "COMPANION_UNKNOWN");
    post(
        Some(companion_key.clone()),
        "/api/companion/hello",
        json!({ "callbackUrl": "ftp://example.com/x" }),
    )
    .await
    .err(400, "INVALID_CALLBACK_URL");
    post(Some(companion_key.clone()), "/api/companion/hello", hello)
        .await
        .ok();
    post(Some(companion_key), "/api/companion/invite/create", create)
        .await
        .ok();
}

#[tokio::test]
async fn an_invite_is_created_and_used_in_the_name_of_better_auth_users() {
    let server = TestServer::start().await;
    let plugin = FakePlugin::start().await;
    let companion = Companion::connect(&server, &plugin).await;

    // The plugin's own token, no email from the ledger; a retry under the
    // same Idempotency-Key answers the first answer and writes nothing.
    let body = json!({ "actor": admin(), "role": "admin", "maxUses": 2,
                       "token": "plugin-made-token-0001", "delivery": "plugin" });
    let first = companion
        .post_with(
            "/api/companion/invite/create",
            body.clone(),
            Some("create-1"),
        )
        .await
        .ok();
    let again = companion
        .post_with("/api/companion/invite/create", body, Some("create-1"))
        .await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.ok(), first);
    assert_eq!(first["token"], "plugin-made-token-0001");
    assert_eq!(first["invitation"]["inviterId"], "ba-admin");
    assert_eq!(first["invitation"]["maxUses"], 2);
    assert_eq!(count_events(&server, "Created").await, 1);
    let raw_token_in_log: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE payload::text LIKE '%plugin-made%'")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
    assert_eq!(raw_token_in_log, 0, "the raw token is never stored");

    // The same token again is refused.
    companion
        .post(
            "/api/companion/invite/create",
            json!({ "actor": admin(), "role": "user", "token": "plugin-made-token-0001" }),
        )
        .await
        .err(409, "TOKEN_ALREADY_EXISTS");
    // Better Auth's admin plugin may list several roles: the highest counts.
    companion
        .post(
            "/api/companion/invite/create",
            json!({ "actor": { "id": "ba-multi", "email": "multi@acme.com", "role": "user, admin" },
                    "role": "admin" }),
        )
        .await
        .ok();
    // A plain user may not invite, whatever Better Auth says of them later.
    companion
        .post(
            "/api/companion/invite/create",
            json!({ "actor": user("ba-carol"), "role": "admin" }),
        )
        .await
        .err(403, "INSUFFICIENT_PERMISSIONS");

    let info = companion
        .post(
            "/api/companion/invite/get",
            json!({ "token": "plugin-made-token-0001" }),
        )
        .await
        .ok();
    assert_eq!(info["invitation"]["status"], "pending");
    assert_eq!(info["inviter"]["name"], "Boss");

    // Bob signs in through Better Auth and uses the invite.
    let used = companion
        .post_with(
            "/api/companion/invite/use",
            json!({ "actor": user("ba-bob"), "token": "plugin-made-token-0001" }),
            Some("use-bob"),
        )
        .await
        .ok();
    assert_eq!(used["role"], "admin");
    assert_eq!(used["roleBefore"], "user");
    let position = used["position"].as_str().unwrap().to_string();
    // A retry after a lost answer takes no second seat and tells the same position.
    let replayed = companion
        .post_with(
            "/api/companion/invite/use",
            json!({ "actor": user("ba-bob"), "token": "plugin-made-token-0001" }),
            Some("use-bob"),
        )
        .await
        .ok();
    assert_eq!(replayed["position"], position.as_str());
    assert_eq!(count_events(&server, "Used").await, 1);
    // Bob cannot use it again; the inviter cannot use their own.
    companion
        .post(
            "/api/companion/invite/use",
            json!({ "actor": admin(), "token": "plugin-made-token-0001" }),
        )
        .await
        .err(403, "CANNOT_USE_OWN_INVITE");

    // The audit API shows who invited whom by the Better Auth ids and emails.
    let audit_key = api_keys::create(server.pool().await, "reports")
        .await
        .unwrap()
        .key;
    let uses = audit_get(&server, &audit_key, "/api/ledger/uses")
        .await
        .ok();
    let text = uses.to_string();
    for expected in ["ba-admin", "ba-bob", "ba-bob@acme.com"] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    let bob = audit_get(&server, &audit_key, "/api/ledger/users/ba-bob")
        .await
        .ok();
    assert!(bob.to_string().contains("ba-bob@acme.com"), "{bob}");
    assert!(bob.to_string().contains("admin"), "{bob}");

    let listed = companion
        .post("/api/companion/invite/list", json!({ "actor": admin() }))
        .await
        .ok();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["invitations"][0]["uses"], 1);
    companion
        .post(
            "/api/companion/invite/cancel",
            json!({ "actor": user("ba-bob"), "token": "plugin-made-token-0001" }),
        )
        .await
        .err(403, "NOT_INVITE_CREATOR");
    // A signed-in user's activation uses the invite; its retry takes no second seat.
    let activate = json!({ "actor": user("ba-erin"), "token": "plugin-made-token-0001" });
    let activated = companion
        .post_with(
            "/api/companion/invite/activate",
            activate.clone(),
            Some("act-erin"),
        )
        .await
        .ok();
    assert_eq!(activated["action"], "REDIRECT_TO_AFTER_UPGRADE");
    assert_eq!(activated["use"]["role"], "admin");
    let again = companion
        .post_with("/api/companion/invite/activate", activate, Some("act-erin"))
        .await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.ok()["use"]["position"], activated["use"]["position"]);
    assert_eq!(count_events(&server, "Used").await, 2);
    // A visitor's activation records no use.
    let visitor = companion
        .post(
            "/api/companion/invite/activate",
            json!({ "actor": null, "token": "plugin-made-token-0001" }),
        )
        .await;
    visitor.err(410, "INVITE_USED_UP");
    companion
        .post(
            "/api/companion/invite/cancel",
            json!({ "actor": admin(), "token": "plugin-made-token-0001" }),
        )
        .await
        .err(410, "INVITE_USED_UP");
}

#[tokio::test]
async fn many_invites_are_created_in_one_call_in_the_name_of_a_better_auth_user() {
    let server = TestServer::start().await;
    let plugin = FakePlugin::start().await;
    let companion = Companion::connect(&server, &plugin).await;
    let many = "/api/companion/invite/create-many";

    let body = json!({ "actor": admin(), "expiresIn": 86400, "delivery": "plugin", "invites": [
        { "email": "ann@acme.com", "role": "user", "name": "Ann", "newAccount": false },
        { "email": "not-an-email", "role": "user" },
        { "email": "bob@acme.com", "role": "no-such-role" },
        { "email": "cy@acme.com", "role": "admin" },
        { "email": "dee@acme.com", "role": "user", "newAccount": "yes" },
    ]});
    let first = companion
        .post_with(many, body.clone(), Some("many-1"))
        .await
        .ok();
    assert_eq!(
        (first["created"].clone(), first["refused"].clone()),
        (json!(2), json!(3))
    );
    let rows = first["invites"].as_array().unwrap();
    let created: Vec<_> = rows
        .iter()
        .map(|r| (r["row"].clone(), r["created"].clone()))
        .collect();
    assert_eq!(
        created,
        [(1, true), (2, false), (3, false), (4, true), (5, false)]
            .map(|(row, ok)| (json!(row), json!(ok)))
    );
    // A refused row says what a single create of it says.
    for (row, email, role) in [
        (1, "not-an-email", "user"),
        (2, "bob@acme.com", "no-such-role"),
    ] {
        let single = companion
            .post(
                "/api/companion/invite/create",
                json!({ "actor": admin(), "role": role, "email": email, "delivery": "plugin" }),
            )
            .await;
        assert_eq!(single.status, 400);
        let error = &rows[row]["error"];
        assert_eq!(error["code"], single.body["code"]);
        assert_eq!(error["message"], single.body["message"]);
    }
    assert_eq!(rows[4]["error"]["code"], "VALIDATION_ERROR");

    // Each created row's token opens its invite, as the plugin's email will.
    for (row, new_account) in [(0, false), (3, true)] {
        let token = rows[row]["token"].as_str().unwrap();
        let info = companion
            .post(
                "/api/companion/invite/get",
                json!({ "actor": admin(), "token": token }),
            )
            .await
            .ok();
        assert_eq!(info["invitation"]["id"], rows[row]["inviteId"]);
        assert_eq!(info["invitation"]["inviterId"], "ba-admin");
        assert_eq!(info["invitation"]["newAccount"], new_account);
    }
    assert_eq!(rows[3]["token"].as_str().map(str::len), Some(24));

    // A retry under the key answers the first answer (the same tokens) and
    // creates nothing more; another request under it is refused.
    let again = companion.post_with(many, body, Some("many-1")).await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.ok(), first);
    assert_eq!(count_events(&server, "Created").await, 2);
    let other =
        json!({ "actor": admin(), "invites": [{ "email": "eve@acme.com", "role": "user" }] });
    companion
        .post_with(many, other, Some("many-1"))
        .await
        .err(422, "IDEMPOTENCY_KEY_REUSED");

    // Bad calls are refused whole.
    for (body, code) in [
        (
            json!({ "actor": admin(), "invites": [] }),
            "VALIDATION_ERROR",
        ),
        (
            json!({ "actor": admin(), "invites": [{ "email": "f@acme.com", "role": "user" }],
                 "expiresIn": -5 }),
            "INVALID_EXPIRES_IN",
        ),
        (
            json!({ "actor": admin(), "invites": [], "token": "mine" }),
            "VALIDATION_ERROR",
        ),
        (
            json!({ "invites": [{ "email": "f@acme.com", "role": "user" }] }),
            "VALIDATION_ERROR",
        ),
    ] {
        companion.post(many, body).await.err(400, code);
    }
    assert_eq!(count_events(&server, "Created").await, 2);
}

#[tokio::test]
async fn fifty_concurrent_sign_ups_on_five_seats_confirm_exactly_five() {
    let server = TestServer::start().await;
    let plugin = FakePlugin::start().await;
    let companion = Arc::new(Companion::connect(&server, &plugin).await);
    let token = companion.public_invite("admin", 5).await;

    let reserves = (0..50).map(|i| {
        let (companion, token) = (companion.clone(), token.clone());
        tokio::spawn(async move {
            let id = format!("ba-new-{i}");
            let reply = companion
                .post(
                    "/api/companion/invite/reserve",
                    json!({ "token": token, "user": user(&id) }),
                )
                .await;
            (id, reply)
        })
    });
    let mut held = Vec::new();
    for reserve in futures::future::join_all(reserves).await {
        let (id, reply) = reserve.unwrap();
        if reply.status == 200 {
            held.push((id, reply.body));
        } else {
            reply.err(410, "INVITE_USED_UP");
        }
    }
    assert_eq!(held.len(), 5, "exactly maxUses seats are held");
    for (id, seat) in &held {
        assert_eq!(seat["role"], "admin");
        plugin.user_exists(id);
        // A confirm (naming the user, as the plugin does) and its retry, at
        // once: one use, the same answer.
        let confirm = json!({ "reservationId": seat["reservationId"], "user": user(id) });
        let (confirmed, again) = tokio::join!(
            companion.post("/api/companion/invite/confirm", confirm.clone()),
            companion.post("/api/companion/invite/confirm", confirm.clone()),
        );
        let (confirmed, again) = (confirmed.ok(), again.ok());
        assert_eq!(confirmed["userId"], id.as_str());
        assert_eq!(again["position"], confirmed["position"]);
    }
    assert_eq!(count_events(&server, "Used").await, 5);
    assert_eq!(count_events(&server, "Introduced").await, 6); // the admin and five
    let info = companion
        .post("/api/companion/invite/get", json!({ "token": token }))
        .await
        .ok();
    assert_eq!(info["invitation"]["uses"], 5);
    assert_eq!(info["invitation"]["status"], "used_up");
    let audit_key = api_keys::create(server.pool().await, "reports")
        .await
        .unwrap()
        .key;
    let invitees = audit_get(&server, &audit_key, "/api/ledger/users/ba-admin/invitees")
        .await
        .ok();
    for (id, _) in &held {
        assert!(invitees.to_string().contains(&format!("{id}@acme.com")));
    }
}

#[tokio::test]
async fn an_unconfirmed_seat_is_given_back_when_the_user_never_existed() {
    let server = TestServer::start_with(&fast_reactors()).await;
    let plugin = FakePlugin::start().await;
    let companion = Companion::connect(&server, &plugin).await;
    let token = companion.public_invite("user", 1).await;

    // Better Auth's write of ba-ghost never commits: nobody confirms.
    companion
        .post(
            "/api/companion/invite/reserve",
            json!({ "token": token, "user": user("ba-ghost") }),
        )
        .await
        .ok();
    companion
        .post(
            "/api/companion/invite/reserve",
            json!({ "token": token, "user": user("ba-late") }),
        )
        .await
        .err(410, "INVITE_USED_UP");
    let released = eventually(20, || count_events(&server, "SeatReleased"), |n| *n == 1).await;
    assert_eq!(released, 1, "the seat was given back in a recorded event");
    let asked = plugin.calls_of("user.exists");
    assert_eq!(asked[0].json()["userId"], "ba-ghost");
    let reason: String = sqlx::query_scalar(
        "SELECT payload -> 'SeatReleased' ->> 'reason' FROM events WHERE event_type = 'SeatReleased'",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!(reason, "user_absent");

    // The seat is free again; this user's write commits, but the plugin dies
    // before confirming: the ledger asks, hears yes, and records the use.
    plugin.user_exists("ba-late");
    let seat = companion
        .post(
            "/api/companion/invite/reserve",
            json!({ "token": token, "user": user("ba-late") }),
        )
        .await
        .ok();
    let used = eventually(20, || count_events(&server, "Used"), |n| *n == 1).await;
    assert_eq!(used, 1);
    companion
        .post(
            "/api/companion/invite/confirm",
            json!({ "reservationId": seat["reservationId"] }),
        )
        .await
        .ok();
    // The ghost's reservation cannot be confirmed any more.
    let ghost: uuid::Uuid = sqlx::query_scalar(
        "SELECT reservation_id FROM companion_reservation WHERE user_id = 'ba-ghost'",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    companion
        .post(
            "/api/companion/invite/confirm",
            json!({ "reservationId": ghost }),
        )
        .await
        .err(409, "RESERVATION_RELEASED");
    assert_eq!(count_events(&server, "Used").await, 1);
}

#[tokio::test]
async fn decided_roles_are_delivered_to_the_plugin_signed() {
    let server = TestServer::start_with(&fast_reactors()).await;
    let plugin = FakePlugin::start().await;
    let companion = Companion::connect(&server, &plugin).await;
    let token = companion.public_invite("admin", 1).await;
    let used = companion
        .post(
            "/api/companion/invite/use",
            json!({ "actor": user("ba-dana"), "token": token }),
        )
        .await
        .ok();

    let deliveries = eventually(
        20,
        || async { plugin.calls_of("role.decided") },
        |calls| !calls.is_empty(),
    )
    .await;
    let delivery = deliveries.first().expect("a role.decided call");
    let body = delivery.json();
    assert_eq!(body["userId"], "ba-dana");
    assert_eq!(body["role"], "admin");
    assert_eq!(body["position"], used["position"]);

    // `t=<unix>,v1=<hex hmac-sha256(secret, "<t>.<body>")>`
    let (t, v1) = delivery.signature.split_once(',').expect("t=...,v1=...");
    let t = t.strip_prefix("t=").unwrap();
    let v1 = v1.strip_prefix("v1=").unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!((now - t.parse::<i64>().unwrap()).abs() < 300);
    let mut mac = Hmac::<Sha256>::new_from_slice(companion.secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&delivery.body);
    assert_eq!(v1, hex::encode(mac.finalize().into_bytes()));
    // Another secret does not verify it.
    let mut forged = Hmac::<Sha256>::new_from_slice(b"ilss_other").unwrap();
    forged.update(format!("{t}.").as_bytes());
    forged.update(&delivery.body);
    assert_ne!(v1, hex::encode(forged.finalize().into_bytes()));

    // A Better Auth admin's role change goes through the ledger and comes back
    // the same way, after the first, in the order decided.
    companion
        .post(
            "/api/companion/user/set-role",
            json!({ "actor": user("ba-gus"), "user": user("ba-dana"), "role": "user" }),
        )
        .await
        .err(403, "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE");
    let set = companion
        .post(
            "/api/companion/user/set-role",
            json!({ "actor": admin(), "user": user("ba-dana"), "role": "user" }),
        )
        .await
        .ok();
    assert_eq!(set["role"], "user");
    let deliveries = eventually(
        20,
        || async { plugin.calls_of("role.decided") },
        |calls| calls.len() >= 2,
    )
    .await;
    let roles: Vec<Value> = deliveries
        .iter()
        .map(|c| c.json()["role"].clone())
        .collect();
    assert_eq!(roles, [json!("admin"), json!("user")]);
    assert_eq!(deliveries[1].json()["position"], set["position"]);
}

#[tokio::test]
async fn companion_history_rebuilds_to_the_same_read_models() {
    let server = TestServer::start_with(&fast_reactors()).await;
    let plugin = FakePlugin::start().await;
    let companion = Companion::connect(&server, &plugin).await;
    let token = companion.public_invite("admin", 3).await;
    // A Better Auth user may share an email with one of the ledger's own accounts.
    let same_email = json!({ "id": "ba-twin", "email": crate::helpers::ADMIN_EMAIL, "name": "Twin", "role": "user" });
    companion
        .post(
            "/api/companion/invite/use",
            json!({ "actor": same_email, "token": token }),
        )
        .await
        .ok();
    let seat = companion
        .post(
            "/api/companion/invite/reserve",
            json!({ "token": token, "user": user("ba-kept") }),
        )
        .await
        .ok();
    companion
        .post(
            "/api/companion/invite/confirm",
            json!({ "reservationId": seat["reservationId"] }),
        )
        .await
        .ok();
    companion
        .post(
            "/api/companion/invite/reserve",
            json!({ "token": token, "user": user("ba-gone") }),
        )
        .await
        .ok();
    eventually(20, || count_events(&server, "SeatReleased"), |n| *n == 1).await;
    let info = companion
        .post("/api/companion/invite/get", json!({ "token": token }))
        .await
        .ok();
    assert_eq!(info["invitation"]["uses"], 2);

    let before = crate::helpers::read_models(server.pool().await, true).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .args(["projections", "rebuild"])
        .env("DATABASE_URL", &server.db.url)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        before,
        crate::helpers::read_models(server.pool().await, true).await,
        "rebuilt read models differ from the originals"
    );
    let twins: i64 = sqlx::query_scalar("SELECT count(*) FROM user_account WHERE email = $1")
        .bind(crate::helpers::ADMIN_EMAIL)
        .fetch_one(server.pool().await)
        .await
        .unwrap();
    assert_eq!(twins, 2, "the ledger's admin and the Better Auth user");
}

#[tokio::test]
async fn a_better_auth_user_is_erased_like_any_person() {
    let server = TestServer::start().await;
    let plugin = FakePlugin::start().await;
    let companion = Companion::connect(&server, &plugin).await;
    let token = companion.public_invite("admin", 1).await;
    companion
        .post(
            "/api/companion/invite/use",
            json!({ "actor": user("ba-fay"), "token": token }),
        )
        .await
        .ok();
    let sealed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE payload::text LIKE '%ba-fay@acme.com%'
            OR payload::text LIKE '%User ba-fay%'",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!(sealed, 0, "the email and name are sealed in the log");

    let erased = server
        .admin()
        .await
        .post("/api/ledger/users/ba-fay/erase", json!({}))
        .await;
    assert_eq!(erased.status, 200, "{}", erased.body);
    let audit_key = api_keys::create(server.pool().await, "reports")
        .await
        .unwrap()
        .key;
    let fay = audit_get(&server, &audit_key, "/api/ledger/users/ba-fay")
        .await
        .ok()
        .to_string();
    assert!(!fay.contains("ba-fay@acme.com"), "{fay}");
    assert!(fay.contains("[erased]"), "{fay}");
    let uses = audit_get(&server, &audit_key, "/api/ledger/uses")
        .await
        .ok()
        .to_string();
    assert!(!uses.contains("ba-fay@acme.com"), "{uses}");
}

#[tokio::test]
async fn a_seat_the_plugin_never_answers_for_is_released_after_bounded_asks() {
    let server = TestServer::start_with(&fast_reactors()).await;
    let plugin = FakePlugin::start().await;
    let companion = Companion::connect(&server, &plugin).await;
    let token = companion.public_invite("user", 1).await;
    plugin
        .state
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let first = companion
        .post(
            "/api/companion/invite/reserve",
            json!({ "token": token, "user": user("ba-limbo") }),
        )
        .await
        .ok();
    let released = eventually(30, || count_events(&server, "SeatReleased"), |n| *n == 1).await;
    assert_eq!(released, 1, "the seat is given back within a bounded time");
    let reason: String = sqlx::query_scalar(
        "SELECT payload -> 'SeatReleased' ->> 'reason' FROM events WHERE event_type = 'SeatReleased'",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!(reason, "unanswered");
    assert_eq!(plugin.calls_of("user.exists").len(), 5, "asked five times");
    // The last attempt is recorded just after the release it made.
    let attempts = eventually(
        10,
        || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM reactor_attempt a
                   JOIN reactor_delivery d ON d.id = a.delivery_id
                  WHERE d.reactor = 'companion-seats'",
            )
            .fetch_one(server.pool().await)
            .await
            .unwrap()
        },
        |n| *n == 5,
    )
    .await;
    assert_eq!(attempts, 5, "every ask is recorded");
    // The seat is free again, even for the same user id tried again: under a
    // new reservation, the released one stays released.
    plugin
        .state
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let again = companion
        .post(
            "/api/companion/invite/reserve",
            json!({ "token": token, "user": user("ba-limbo") }),
        )
        .await
        .ok();
    assert_ne!(again["reservationId"], first["reservationId"]);
    assert!(again["position"].is_string());
}

/// Values that have broken servers, for every field of every companion body.
fn hostile_values() -> Vec<Value> {
    let mut values: Vec<Value> = [
        "",
        "\u{0}",
        "\u{1}\u{7f}\r\n",
        "-1",
        "' OR 1=1 --",
        "%",
        "\u{202e}💥",
        "//evil.example",
        "javascript:alert(1)",
        "00000000-0000-0000-0000-000000000000",
    ]
    .into_iter()
    .map(|s| Value::String(s.to_string()))
    .collect();
    values.push(Value::String("x".repeat(100_000)));
    values.extend([
        Value::Null,
        json!(true),
        json!(-1),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(-9.9e300),
        json!([]),
        json!({}),
        json!({ "id": "\u{0}", "email": "" }),
    ]);
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_input_to_the_companion_api_is_a_server_error() {
    let server = TestServer::start().await;
    let plugin = FakePlugin::start().await;
    let companion = Companion::connect(&server, &plugin).await;
    let token = companion.public_invite("user", 1000).await;
    let seat = companion
        .post(
            "/api/companion/invite/reserve",
            json!({ "token": token, "user": user("ba-seat") }),
        )
        .await
        .ok();
    let valid = json!({
        "actor": admin(), "user": user("ba-fuzz"), "token": token, "role": "user",
        "email": "fuzz@acme.com", "maxUses": 2, "expiresIn": 60, "tokenType": "token",
        "redirectToSignUp": "/up", "redirectToSignIn": "/in", "redirectToAfterUpgrade": "/after",
        "shareInviterName": true, "senderResponseRedirect": "signUp", "newAccount": true,
        "delivery": "plugin", "limit": 5, "offset": 0, "emailContains": "a",
        "invites": [{ "email": "fuzz-many@acme.com", "role": "user", "newAccount": true }],
        "callbackURL": "/x", "reservationId": seat["reservationId"], "callbackUrl": plugin.url(),
        "organizationId": "org-fuzz",
    });
    // Each route with the fields its body takes.
    let routes: [(&str, &[&str]); 13] = [
        ("/api/companion/hello", &["callbackUrl"]),
        (
            "/api/companion/invite/create",
            &[
                "actor",
                "role",
                "email",
                "tokenType",
                "redirectToSignUp",
                "redirectToSignIn",
                "redirectToAfterUpgrade",
                "maxUses",
                "expiresIn",
                "shareInviterName",
                "senderResponseRedirect",
                "newAccount",
                "delivery",
            ],
        ),
        (
            "/api/companion/invite/create-many",
            &[
                "actor",
                "invites",
                "expiresIn",
                "maxUses",
                "tokenType",
                "delivery",
            ],
        ),
        ("/api/companion/invite/get", &["actor", "token"]),
        (
            "/api/companion/invite/list",
            &["actor", "limit", "offset", "emailContains"],
        ),
        ("/api/companion/invite/cancel", &["actor", "token"]),
        ("/api/companion/invite/reject", &["actor", "token"]),
        (
            "/api/companion/invite/activate",
            &["actor", "token", "callbackURL"],
        ),
        ("/api/companion/invite/use", &["actor", "token"]),
        ("/api/companion/invite/reserve", &["token", "user"]),
        ("/api/companion/invite/confirm", &["reservationId"]),
        ("/api/companion/user/set-role", &["actor", "user", "role"]),
        ("/api/companion/organization/state", &["organizationId"]),
    ];
    let mut failures = Vec::new();
    for (route, fields) in routes {
        let valid: Value = fields
            .iter()
            .map(|f| (f.to_string(), valid[*f].clone()))
            .collect::<serde_json::Map<_, _>>()
            .into();
        let answer = companion.post(route, valid.clone()).await;
        assert_ne!(
            answer.body["code"], "VALIDATION_ERROR",
            "{route}: the base body parses"
        );
        for field in fields.iter().map(|f| f.to_string()) {
            for value in hostile_values() {
                // The field alone (unknown fields are refused, so it reaches
                // the parser), and inside the acting user.
                for body in [
                    json!({ field.clone(): value.clone() }),
                    json!({ "actor": { field.clone(): value.clone() }, "token": token }),
                ] {
                    let reply = companion.post(route, body).await;
                    if reply.status.is_server_error() {
                        failures.push(format!("{route} {field}={value:.40}: {}", reply.body));
                    }
                }
            }
            // Every field valid but this one.
            for value in hostile_values() {
                let mut body = valid.clone();
                body[field.as_str()] = value.clone();
                let reply = companion.post(route, body).await;
                if reply.status.is_server_error() {
                    failures.push(format!("{route} {field}={value:.40}: {}", reply.body));
                }
            }
        }
    }
    let huge = companion
        .post(
            "/api/companion/invite/get",
            json!({ "token": "x".repeat(3 * 1024 * 1024) }),
        )
        .await;
    huge.err(413, "PAYLOAD_TOO_LARGE");
    assert!(
        failures.is_empty(),
        "server errors:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_feed_finds_a_better_auth_users_seat_by_their_id() {
    let server = TestServer::start().await;
    let plugin = FakePlugin::start().await;
    let companion = Companion::connect(&server, &plugin).await;
    let token = companion.public_invite("user", 2).await;
    companion
        .post(
            "/api/companion/invite/reserve",
            json!({ "token": token, "user": user("ba-hal") }),
        )
        .await
        .ok();
    let audit_key = api_keys::create(server.pool().await, "reports")
        .await
        .unwrap()
        .key;
    let feed = audit_get(&server, &audit_key, "/api/ledger/events?actor=ba-hal")
        .await
        .ok();
    let types: Vec<&str> = feed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["SeatReserved"], "{feed}");
}

#[tokio::test]
async fn the_command_line_makes_a_companion_key() {
    let server = TestServer::start().await;
    let plugin = FakePlugin::start().await;
    let make = |scope: Option<&'static str>| {
        let url = server.db.url.clone();
        async move {
            let mut args = vec!["apikey", "create", "--name", "plugin"];
            args.extend(scope.map(|s| ["--scope", s]).into_iter().flatten());
            let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
                .args(&args)
                .env("DATABASE_URL", url)
                .output()
                .await
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8(output.stdout).unwrap().trim().to_string()
        }
    };
    let hello = |key: String| {
        let url = format!("http://{}/api/companion/hello", server.addr);
        let body = json!({ "callbackUrl": plugin.url() });
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            Client::reply(response).await
        }
    };
    hello(make(Some("companion")).await).await.ok();
    hello(make(None).await).await.err(403, "API_KEY_SCOPE");
    let scope: Vec<String> = sqlx::query_scalar("SELECT scope FROM api_key ORDER BY created_at")
        .fetch_all(server.pool().await)
        .await
        .unwrap();
    assert_eq!(scope, ["companion", "audit"]);
}

#[tokio::test]
async fn as_of_shows_a_seat_as_a_use_only_once_confirmed() {
    let server = TestServer::start().await;
    server.clock_to_real_time();
    let plugin = FakePlugin::start().await;
    let companion = Companion::connect(&server, &plugin).await;
    let token = companion.public_invite("admin", 2).await;
    let invite_id = companion
        .post("/api/companion/invite/get", json!({ "token": token }))
        .await
        .ok()["invitation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let seat = companion
        .post(
            "/api/companion/invite/reserve",
            json!({ "token": token, "user": user("ba-ivy") }),
        )
        .await
        .ok();
    // The moment the seat was held, as the log recorded it.
    let held_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT recorded_at FROM events WHERE event_type = 'SeatReserved'")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
    companion
        .post(
            "/api/companion/invite/confirm",
            json!({ "reservationId": seat["reservationId"], "user": user("ba-ivy") }),
        )
        .await
        .ok();
    let audit_key = api_keys::create(server.pool().await, "reports")
        .await
        .unwrap()
        .key;
    let at = |moment: chrono::DateTime<chrono::Utc>| {
        let encoded: String =
            url::form_urlencoded::byte_serialize(moment.to_rfc3339().as_bytes()).collect();
        format!("/api/ledger/invites/{invite_id}?as_of={encoded}")
    };
    let then = audit_get(&server, &audit_key, &at(held_at)).await.ok();
    assert_eq!(then["invite"]["uses"], 0, "{then}");
    let now = audit_get(
        &server,
        &audit_key,
        &format!("/api/ledger/invites/{invite_id}"),
    )
    .await
    .ok();
    assert_eq!(now["invite"]["uses"], 1, "{now}");
}

#[tokio::test]
async fn replicas_see_each_others_seats_on_a_busy_invite() {
    use invite_ledger::commands::companion::seats::{self, ReserveRequest};
    use invite_ledger::commands::companion::Caller;
    let server = TestServer::start().await;
    let plugin = FakePlugin::start().await;
    let companion = Companion::connect(&server, &plugin).await;
    let token = companion.public_invite("user", 3).await;
    let (other, tasks) = crate::helpers::replica(&server.db, server.clock.clone(), &[]).await;
    let key_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM api_key WHERE scope = 'companion'")
        .fetch_one(server.pool().await)
        .await
        .unwrap();
    let caller = Caller { key_id };
    let reserve = |app: invite_ledger::app::App, id: &str| {
        let request = ReserveRequest {
            token: Some(token.clone()),
            user: serde_json::from_value(user(id)).unwrap(),
        };
        async move { seats::reserve(&app, caller, request).await }
    };
    // Each server has loaded the invite, then the other one writes to it.
    reserve(server.app.clone(), "ba-r1").await.unwrap();
    reserve(other.clone(), "ba-r2").await.unwrap();
    reserve(server.app.clone(), "ba-r3").await.unwrap();
    let refused = reserve(other.clone(), "ba-r4").await.unwrap_err();
    assert_eq!(refused.code(), "INVITE_USED_UP");
    let refused = reserve(server.app.clone(), "ba-r5").await.unwrap_err();
    assert_eq!(refused.code(), "INVITE_USED_UP");
    assert_eq!(count_events(&server, "SeatReserved").await, 3);
    for task in tasks {
        task.abort();
    }
}
