//! Shared test harness: a fresh PostgreSQL database per test (dropped afterwards),
//! the real server on a loopback port, an injected clock and a capturing mailer.
#![allow(dead_code)]

pub mod bounded;
pub mod ledger;
pub mod node;
pub mod process;
pub mod smtp_sink;
pub mod synthetic;
pub mod webhook_sink;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use clap::Parser;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, PgPool};

use invite_ledger::app::App;
use invite_ledger::clock::ManualClock;
use invite_ledger::commands::accounts;
use invite_ledger::config::Config;
use invite_ledger::mailer::{InvitationEmail, Mailer};
use invite_ledger::reactors;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password";

fn server_url() -> String {
    std::env::var("TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A database of its own, dropped (with any connections left) when the test ends.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let name = format!("invite_ledger_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&format!("{}/postgres", server_url()))
            .await
            .expect("PostgreSQL must be running on 127.0.0.1:5432 (see README)");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        TestDb {
            url: format!("{}/{name}", server_url()),
            name,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any runtime we may block: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut admin) =
                    PgConnection::connect(&format!("{}/postgres", server_url())).await
                {
                    let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Polls `read` until `done` holds for what it returns, or `secs` seconds pass;
/// returns the last reading either way.
pub async fn poll_until<T>(secs: u64, read: impl Fn() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let value = read();
        if done(&value) || tokio::time::Instant::now() >= deadline {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// `poll_until` for an async `read`.
pub async fn eventually<T, F: std::future::Future<Output = T>>(
    secs: u64,
    read: impl Fn() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let value = read().await;
        if done(&value) || tokio::time::Instant::now() >= deadline {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[derive(Default)]
pub struct CapturingMailer(pub Mutex<Vec<InvitationEmail>>);

#[async_trait]
impl Mailer for CapturingMailer {
    async fn send_invitation(&self, email: InvitationEmail) -> anyhow::Result<()> {
        self.0.lock().unwrap().push(email);
        Ok(())
    }
}

impl CapturingMailer {
    /// The last email to `to`. Emails leave from a reactor after the request has
    /// answered, so this waits for one (up to 30 seconds: a loaded machine is slow).
    pub async fn last_to(&self, to: &str) -> InvitationEmail {
        self.wait_for(to, 1).await.pop().unwrap()
    }

    /// The emails to `to`, once there are at least `count` (waits up to 30 seconds).
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<InvitationEmail> {
        let sent_to = || -> Vec<InvitationEmail> {
            let sent = self.0.lock().unwrap();
            sent.iter().filter(|m| m.to == to).cloned().collect()
        };
        let sent = poll_until(30, sent_to, |sent| sent.len() >= count).await;
        assert!(
            sent.len() >= count,
            "{} of {count} emails were sent to {to}",
            sent.len()
        );
        sent
    }
}

#[derive(Parser)]
#[command(args_override_self = true)]
struct ConfigArgs {
    #[command(flatten)]
    config: Config,
}

pub fn config(db: &TestDb, extra: &[&str]) -> Config {
    let mut args = vec![
        "test".to_string(),
        "--database-url".into(),
        db.url.clone(),
        "--base-url".into(),
        "http://localhost:3000".into(),
        "--password-hash-memory-kib".into(),
        "64".into(),
        "--password-hash-iterations".into(),
        "1".into(),
        // Tests sign in far more often than people do, all from 127.0.0.1; the
        // tests of these limits set their own.
        "--sign-in-attempts-per-address".into(),
        "100000".into(),
        "--sign-in-failures-per-account".into(),
        "100000".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    ConfigArgs::try_parse_from(args)
        .expect("test config parses")
        .config
}

/// Another server on the same database, as a replica runs: the app and its
/// reactors, without HTTP. Abort the tasks to stop it.
pub async fn replica(
    db: &TestDb,
    clock: Arc<ManualClock>,
    extra: &[&str],
) -> (App, Vec<tokio::task::JoinHandle<()>>) {
    let settings = config(db, extra).settings().expect("valid settings");
    let (app, mut tasks) = App::start(settings, clock, Arc::new(CapturingMailer::default()))
        .await
        .expect("replica starts");
    tasks.extend(reactors::spawn(&app).await.expect("reactors start"));
    (app, tasks)
}

/// The id an invite with this token is kept under, with the tests' (default) key.
pub fn invite_hash(token: &str) -> String {
    invite_ledger::domain::token_hash::TokenHasher::from_hex(None)
        .unwrap()
        .keyed(token)
}

/// An event's `aggregateId` as readers see it, in SQL over `events`: for an
/// invite's events, the invite's id from its `Created`.
pub const READER_AGGREGATE_ID: &str = "CASE WHEN aggregate_type = 'invite' THEN (
        SELECT c.payload -> 'Created' -> 'terms' ->> 'invite_id' FROM events c
         WHERE c.aggregate_type = 'invite' AND c.aggregate_id = events.aggregate_id
           AND c.event_type = 'Created')
    ELSE aggregate_id END";

/// The id of the invite with this token: its events' `aggregateId`.
pub async fn invite_id_of(pool: &PgPool, token: &str) -> String {
    sqlx::query_scalar(
        "SELECT payload -> 'Created' -> 'terms' ->> 'invite_id' FROM events
          WHERE aggregate_type = 'invite' AND aggregate_id = $1 AND event_type = 'Created'",
    )
    .bind(invite_hash(token))
    .fetch_one(pool)
    .await
    .expect("the invite's Created is in the log")
}

/// Every row of every table in the database, as text.
pub async fn every_row(server: &TestServer) -> Vec<(String, String)> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text FROM information_schema.tables
          WHERE table_type = 'BASE TABLE'
            AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(server.pool().await)
    .await
    .unwrap();
    let mut rows = Vec::new();
    for (schema, table) in tables {
        let sql = format!("SELECT t::text FROM \"{schema}\".\"{table}\" t");
        for row in sqlx::query_scalar::<_, String>(&sql)
            .fetch_all(server.pool().await)
            .await
            .unwrap()
        {
            rows.push((table.clone(), row));
        }
    }
    rows
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Serves `app`'s HTTP API on a free loopback port.
pub async fn serve_http(app: App) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = invite_ledger::http::router(app);
    let serving = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (addr, serving)
}

pub struct TestServer {
    pub db: TestDb,
    pub app: App,
    pub addr: SocketAddr,
    pub clock: Arc<ManualClock>,
    pub mailer: Arc<CapturingMailer>,
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl TestServer {
    /// Moves the injected clock to the real time, so that domain times and the
    /// times the database records (what `as_of` compares with) agree, as they
    /// do in production.
    pub fn clock_to_real_time(&self) {
        use invite_ledger::clock::Clock;
        self.clock.advance(Utc::now() - self.clock.now());
    }

    /// A server with the default configuration and an admin account.
    pub async fn start() -> TestServer {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra: &[&str]) -> TestServer {
        Self::start_with_mailer(extra, None).await
    }

    /// As `start_with`, sending email through `mailer` instead of capturing it.
    pub async fn start_with_mailer(extra: &[&str], mailer: Option<Arc<dyn Mailer>>) -> TestServer {
        let db = TestDb::new().await;
        let settings = config(&db, extra).settings().expect("valid settings");
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
        ));
        let capturing = Arc::new(CapturingMailer::default());
        let mailer = mailer.unwrap_or_else(|| capturing.clone());
        let (app, mut tasks) = App::start(settings, clock.clone(), mailer)
            .await
            .expect("app starts");
        tasks.extend(reactors::spawn(&app).await.expect("reactors start"));
        let (addr, serving) = serve_http(app.clone()).await;
        tasks.push(serving);
        let admin_role = app.settings.roles.admin_role().to_string();
        accounts::create_user(
            &app,
            ADMIN_EMAIL,
            ADMIN_PASSWORD.into(),
            "Ada Admin",
            &admin_role,
        )
        .await
        .expect("admin created");
        // The fixture's admin is in the read models before any test looks.
        app.see_the_log().await.expect("read models reached");
        TestServer {
            db,
            app,
            addr,
            clock,
            mailer: capturing,
            tasks,
        }
    }

    /// A browser-like client: its own cookie jar, redirects not followed.
    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{}", self.addr),
        }
    }

    pub async fn admin(&self) -> Client {
        let client = self.client();
        client.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.ok();
        client
    }

    /// The database, once the read models have applied the whole log: a write
    /// answers before they fold it, so SQL a test runs after its requests sees
    /// the settled state, as a later request would.
    pub async fn pool(&self) -> &PgPool {
        self.read_models_caught_up().await;
        &self.app.pool
    }

    /// The database as it is this instant, read models perhaps behind the log:
    /// for tests that watch the folding itself or hold the read models still.
    pub fn pool_now(&self) -> &PgPool {
        &self.app.pool
    }

    /// Waits until the read models have applied the whole log (bounded by the
    /// server's position wait).
    pub async fn read_models_caught_up(&self) {
        self.app.see_the_log().await.unwrap();
    }

    /// A signed-in user with `role`, made by sign-up then an admin's set-role.
    pub async fn user_with_role(&self, email: &str, role: &str) -> Client {
        let client = self.client();
        let user = client.sign_up(email, "password1", "Some One").await.ok();
        if role != self.app.settings.roles.default_role() {
            let id = user["user"]["id"].as_str().unwrap().to_string();
            self.admin()
                .await
                .post(
                    "/api/auth/admin/set-role",
                    json!({ "userId": id, "role": role }),
                )
                .await
                .ok();
        }
        client
    }
}

#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

/// A response: status, headers and JSON body (`Null` when there is none).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The body of a 200, or a panic that shows what came instead.
    pub fn ok(self) -> Value {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "expected 200, got {}: {}",
            self.status,
            self.body
        );
        self.body
    }

    /// Asserts an error reply with this status and code.
    pub fn err(self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "body: {}",
            self.body
        );
        self.body
    }

    /// Asserts the plugin's refusal `code` with our more precise one as `reason`.
    pub fn refused_because(self, status: u16, code: &str, reason: &str) -> Value {
        let body = self.err(status, code);
        assert_eq!(body["reason"], reason, "body: {body}");
        body
    }

    pub fn location(&self) -> String {
        self.headers["location"].to_str().unwrap().to_string()
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
}

impl Client {
    /// A response as a `Reply`: status, headers and the body as JSON (or text).
    pub async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        Self::reply(
            self.http
                .post(format!("{}{path}", self.base))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: &str) -> Reply {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body.to_string());
        Self::reply(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        Self::reply(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn sign_up(&self, email: &str, password: &str, name: &str) -> Reply {
        self.post(
            "/api/auth/sign-up/email",
            json!({ "email": email, "password": password, "name": name }),
        )
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/auth/sign-in/email",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn session(&self) -> Value {
        self.get("/api/auth/get-session").await.ok()
    }

    pub async fn role(&self) -> String {
        self.session().await["user"]["role"]
            .as_str()
            .expect("signed in")
            .to_string()
    }

    /// Creates an invite and returns the token (public) from `message`.
    pub async fn create_invite(&self, body: Value) -> String {
        let reply = self.post("/api/auth/invite/create", body).await.ok();
        reply["message"].as_str().unwrap().to_string()
    }

    /// Creates a private invite for `email`; returns the reply's body.
    pub async fn invite_by_email(&self, role: &str, email: &str) -> Value {
        self.post(
            "/api/auth/invite/create",
            json!({ "role": role, "email": email }),
        )
        .await
        .ok()
    }

    pub async fn activate(&self, token: &str) -> Reply {
        self.post("/api/auth/invite/activate", json!({ "token": token }))
            .await
    }

    pub async fn invite_info(&self, token: &str) -> Reply {
        let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
        self.get(&format!("/api/auth/invite/get?token={token}"))
            .await
    }
}

impl TestServer {
    /// A script's client: no cookie jar, every request with `Authorization: Bearer`.
    pub fn bearer_client(&self, session_token: &str) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {session_token}").parse().unwrap(),
        );
        Client {
            http: reqwest::Client::builder()
                .default_headers(headers)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{}", self.addr),
        }
    }

    /// How many events of `event_type` the ledger holds (all events for `None`).
    pub async fn events(&self, event_type: Option<&str>) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE $1::text IS NULL OR event_type = $1")
            .bind(event_type)
            .fetch_one(self.pool_now())
            .await
            .unwrap()
    }
}

impl Reply {
    /// The `Set-Cookie` header that sets the cookie `name`, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// Whether this reply tells the browser to drop the cookie `name`.
    pub fn clears_cookie(&self, name: &str) -> bool {
        self.cookie(name)
            .is_some_and(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0"))
    }

    /// Asserts a refusal: a 4xx with a non-empty `code` and `message`.
    pub fn refused(self) -> Value {
        assert!(
            self.status.is_client_error(),
            "expected a 4xx, got {}: {}",
            self.status,
            self.body
        );
        for field in ["code", "message"] {
            assert!(
                self.body[field].as_str().is_some_and(|s| !s.is_empty()),
                "{} {} has no `{field}`",
                self.status,
                self.body
            );
        }
        self.body
    }
}

impl TestServer {
    /// The raw token of a fresh admin session, for a bearer client.
    pub async fn admin_token(&self) -> String {
        let signed_in = self
            .client()
            .sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .ok();
        signed_in["token"].as_str().unwrap().to_string()
    }

    /// A private invite from `inviter` to `email`; returns the token it emailed.
    pub async fn private_invite(&self, inviter: &Client, role: &str, email: &str) -> String {
        inviter.invite_by_email(role, email).await;
        self.mailer.last_to(&email.to_lowercase()).await.token
    }
}

impl Client {
    pub async fn cancel(&self, token: &str) -> Reply {
        self.post("/api/auth/invite/cancel", json!({ "token": token }))
            .await
    }

    pub async fn reject(&self, token: &str) -> Reply {
        self.post("/api/auth/invite/reject", json!({ "token": token }))
            .await
    }

    pub async fn sign_out(&self) -> Reply {
        self.post("/api/auth/sign-out", json!({})).await
    }

    pub async fn user_id(&self) -> String {
        self.session().await["user"]["id"]
            .as_str()
            .expect("signed in")
            .to_string()
    }
}

/// Every read-model table (and, with `history`, its history), one JSON text
/// per row, in key order: what two runs of the folds must agree on.
pub async fn read_models(pool: &PgPool, history: bool) -> Vec<(String, Vec<String>)> {
    let tables = [
        ("invite", "id"),
        ("invite_use", "position"),
        ("user_account", "id"),
        ("invite_history", "token_hash, valid_from_position"),
        ("invite_use_history", "position, valid_from_position"),
        ("user_account_history", "id, valid_from_position"),
    ];
    let mut out = Vec::new();
    for (table, key) in &tables[..if history { 6 } else { 3 }] {
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT row_to_json(t)::text FROM {table} t ORDER BY {key}"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        out.push((table.to_string(), rows));
    }
    out
}

/// A pool for a test's own look at the database: two connections, so that
/// the suite's tests, run side by side, stay within PostgreSQL's 100.
pub async fn small_pool(url: &str) -> Result<PgPool, sqlx::Error> {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await
}
