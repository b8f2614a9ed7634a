//! Shared test harness: a fresh PostgreSQL database per test (dropped afterwards),
//! the real server on a loopback port, an injected clock and a capturing mailer.
#![allow(dead_code)]

pub mod ledger;
pub mod synthetic;

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
use invite_ledger::config::Config;
use invite_ledger::service::accounts;
use invite_ledger::service::mailer::{InvitationEmail, Mailer};

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
    pub fn last_to(&self, to: &str) -> InvitationEmail {
        self.0
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m.to == to)
            .cloned()
            .unwrap_or_else(|| panic!("no email was sent to {to}"))
    }
}

#[derive(Parser)]
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
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    ConfigArgs::try_parse_from(args)
        .expect("test config parses")
        .config
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
    /// A server with the default configuration and an admin account.
    pub async fn start() -> TestServer {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra: &[&str]) -> TestServer {
        let db = TestDb::new().await;
        let settings = config(&db, extra).settings().expect("valid settings");
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
        ));
        let mailer = Arc::new(CapturingMailer::default());
        let (app, mut tasks) = App::start(settings, clock.clone(), mailer.clone())
            .await
            .expect("app starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = invite_ledger::http::router(app.clone());
        tasks.push(tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        }));
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
        TestServer {
            db,
            app,
            addr,
            clock,
            mailer,
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

    pub fn pool(&self) -> &PgPool {
        &self.app.pool
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
    async fn reply(response: reqwest::Response) -> Reply {
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
