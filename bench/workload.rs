//! What a client of the service does, over HTTP: the measured requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::history;
use super::load::{closed_loop, Stats};

/// One keep-alive HTTP client for a base URL, shared by every simulated client.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Api> {
        Ok(Api {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            base: format!("{base}/api/auth"),
        })
    }

    /// Signs in and returns the session token, for `Authorization: Bearer`.
    pub async fn sign_in(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let body = json!({ "email": email, "password": password });
        let reply = expect_ok(self.http.post(self.url("/sign-in/email")).json(&body)).await?;
        token_of(&reply, "token")
    }

    /// Creates a public invite and returns its token.
    pub async fn create_invite(&self, bearer: &str, body: Value) -> anyhow::Result<String> {
        let request = self
            .http
            .post(self.url("/invite/create"))
            .bearer_auth(bearer)
            .json(&body);
        token_of(&expect_ok(request).await?, "message")
    }

    /// `POST /invite/create-many` and its answer.
    pub async fn create_many(&self, bearer: &str, body: Value) -> anyhow::Result<Value> {
        let request = self
            .http
            .post(self.url("/invite/create-many"))
            .bearer_auth(bearer)
            .json(&body);
        expect_ok(request).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn expect_ok(request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let reply = request.send().await?;
    let status = reply.status();
    let body: Value = reply.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(
        status == StatusCode::OK,
        "expected 200, got {status}: {body}"
    );
    Ok(body)
}

fn token_of(body: &Value, field: &str) -> anyhow::Result<String> {
    body[field]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no `{field}` in {body}"))
}

/// `POST /invite/create` by the admin in a closed loop; returns the tokens made.
pub async fn create_invites(
    api: &Api,
    admin: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<(Stats, Vec<String>)> {
    let tokens = Arc::new(Mutex::new(Vec::new()));
    let stats = {
        let (api, admin, tokens) = (api.clone(), admin.to_string(), tokens.clone());
        closed_loop(clients, duration, move |_| {
            let (api, admin, tokens) = (api.clone(), admin.clone(), tokens.clone());
            async move {
                let body = json!({ "role": "user", "senderResponse": "token" });
                let token = api.create_invite(&admin, body).await?;
                tokens.lock().expect("not poisoned").push(token);
                Ok(())
            }
        })
        .await?
    };
    let tokens = std::mem::take(&mut *tokens.lock().expect("not poisoned"));
    Ok((stats, tokens))
}

/// `GET /invite/get?token=` for random tokens of `tokens`, anonymously.
pub async fn get_invites(
    api: &Api,
    tokens: Arc<Vec<String>>,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Stats> {
    anyhow::ensure!(!tokens.is_empty(), "no invites to read");
    let api = api.clone();
    closed_loop(clients, duration, move |_| {
        let api = api.clone();
        let token = tokens
            .choose(&mut rand::thread_rng())
            .expect("not empty")
            .clone();
        async move {
            let reply = api
                .http
                .get(api.url("/invite/get"))
                .query(&[("token", token)])
                .send()
                .await?;
            let status = reply.status();
            let body = reply.bytes().await?;
            anyhow::ensure!(
                status == StatusCode::OK,
                "get-invite: {status}: {}",
                String::from_utf8_lossy(&body)
            );
            Ok(())
        }
    })
    .await
}

/// The whole life of one invitee: the admin creates an invite, a visitor
/// activates it (cookie) and signs up with it, which uses it.
pub async fn full_flows(
    api: &Api,
    admin: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Stats> {
    let invitees = Arc::new(AtomicUsize::new(0));
    let (api, admin) = (api.clone(), admin.to_string());
    closed_loop(clients, duration, move |_| {
        let (api, admin) = (api.clone(), admin.clone());
        let invitee = invitees.fetch_add(1, Ordering::Relaxed);
        async move {
            let body = json!({ "role": "user", "senderResponse": "token" });
            let token = api.create_invite(&admin, body).await?;
            // A browser of its own: the invite cookie travels from activate to sign-up.
            let visitor = reqwest::Client::builder().cookie_store(true).build()?;
            let activated = expect_ok(
                visitor
                    .post(api.url("/invite/activate"))
                    .json(&json!({ "token": token })),
            )
            .await?;
            anyhow::ensure!(
                activated["action"] == "SIGN_IN_UP_REQUIRED",
                "activate: {activated}"
            );
            let sign_up = json!({
                "email": format!("flow{invitee}@bench.example"),
                "password": "bench-password",
                "name": "Flow Invitee",
            });
            let signed_up =
                expect_ok(visitor.post(api.url("/sign-up/email")).json(&sign_up)).await?;
            anyhow::ensure!(
                signed_up["invite"]["used"] == true,
                "sign-up did not use the invite: {signed_up}"
            );
            Ok(())
        }
    })
    .await
}

/// How a crowd on one invite fared.
pub struct Crowd {
    pub clients: usize,
    pub max_uses: usize,
    pub succeeded: usize,
    /// Refusals by error code, e.g. `INVITE_USED_UP`.
    pub refused: Vec<(String, usize)>,
    pub elapsed: Duration,
}

/// `clients` signed-in invitees (`history::add_sessions`, from `first`) use one
/// public invite at the same moment (`POST /invite/activate` uses it at once
/// for a signed-in user).
pub async fn crowd(
    api: &Api,
    admin: &str,
    first: u64,
    clients: usize,
    max_uses: usize,
) -> anyhow::Result<Crowd> {
    crowd_across(std::slice::from_ref(api), admin, first, clients, max_uses).await
}

/// `crowd` with the clients spread over several replicas, client `n` on
/// replica `n % apis.len()`.
pub async fn crowd_across(
    apis: &[Api],
    admin: &str,
    first: u64,
    clients: usize,
    max_uses: usize,
) -> anyhow::Result<Crowd> {
    let api = &apis[0];
    let body = json!({ "role": "admin", "maxUses": max_uses, "senderResponse": "token" });
    let token = api.create_invite(admin, body).await?;
    let start = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let mut tasks = JoinSet::new();
    for n in 0..clients {
        let api = apis[n % apis.len()].clone();
        let (token, start) = (token.clone(), start.clone());
        let session = history::session_token(first + n as u64);
        tasks.spawn(async move {
            start.wait().await;
            let reply = api
                .http
                .post(api.url("/invite/activate"))
                .bearer_auth(session)
                .json(&json!({ "token": token }))
                .send()
                .await?;
            let status = reply.status();
            let body: Value = reply.json().await.unwrap_or(Value::Null);
            anyhow::ensure!(
                status == StatusCode::OK || status.is_client_error(),
                "use: {status}: {body}"
            );
            Ok(match status {
                StatusCode::OK => None,
                _ => Some(body["code"].as_str().unwrap_or("?").to_string()),
            })
        });
    }
    start.wait().await;
    let started = Instant::now();
    let mut succeeded = 0;
    let mut refused: Vec<(String, usize)> = Vec::new();
    while let Some(outcome) = tasks.join_next().await {
        match outcome?? {
            None => succeeded += 1,
            Some(code) => match refused.iter_mut().find(|(c, _)| *c == code) {
                Some((_, n)) => *n += 1,
                None => refused.push((code, 1)),
            },
        }
    }
    let elapsed = started.elapsed();
    let info = expect_ok(
        api.http
            .get(api.url("/invite/get"))
            .query(&[("token", &token)]),
    )
    .await?;
    anyhow::ensure!(
        info["invitation"]["uses"] == max_uses,
        "the invite shows {} uses, not {max_uses}",
        info["invitation"]["uses"]
    );
    Ok(Crowd {
        clients,
        max_uses,
        succeeded,
        refused,
        elapsed,
    })
}
