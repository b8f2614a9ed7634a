//! A webhook receiver on loopback: keeps every request, and answers 500 for the
//! aggregates told to fail.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Hook {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Bytes,
    /// What the receiver answered.
    pub status: u16,
}

impl Hook {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Inner {
    hooks: Mutex<Vec<Hook>>,
    failing: Mutex<HashSet<String>>,
}

pub struct WebhookSink {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let data = serde_json::from_slice::<Value>(&body).unwrap_or_default()["data"].clone();
    let failing = inner.failing.lock().unwrap();
    let fails = ["aggregateId", "aggregateType"]
        .iter()
        .any(|field| data[field].as_str().is_some_and(|v| failing.contains(v)));
    drop(failing);
    let status = if fails {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    };
    inner.hooks.lock().unwrap().push(Hook {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
        status: status.as_u16(),
    });
    status
}

impl WebhookSink {
    pub async fn start() -> WebhookSink {
        let inner = Arc::new(Inner::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        WebhookSink { addr, inner, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Answer 500 to the events of this aggregate id, or of every aggregate of
    /// this type (`"invite"`), or accept them again.
    pub fn fail_for(&self, aggregate_id: &str, failing: bool) {
        let mut set = self.inner.failing.lock().unwrap();
        if failing {
            set.insert(aggregate_id.to_string());
        } else {
            set.remove(aggregate_id);
        }
    }

    pub fn hooks(&self) -> Vec<Hook> {
        self.inner.hooks.lock().unwrap().clone()
    }

    /// The accepted hooks about one aggregate, in arrival order.
    pub fn accepted_for(&self, aggregate_id: &str) -> Vec<Hook> {
        self.hooks()
            .into_iter()
            .filter(|h| h.status < 300 && h.json()["data"]["aggregateId"] == aggregate_id)
            .collect()
    }

    /// Waits (up to `secs` seconds) until `done` holds for the hooks so far.
    pub async fn wait_until(&self, secs: u64, done: impl Fn(&[Hook]) -> bool) -> Vec<Hook> {
        super::poll_until(secs, || self.hooks(), |h| done(h)).await
    }
}
