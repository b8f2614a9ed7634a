//! Reactors: side effects that follow the log.
//!
//! A reactor reads the log in global order from a checkpoint, like a projection,
//! and for each event it cares about plans a delivery: a row in
//! `reactor_delivery`, written in the same transaction as the checkpoint, so each
//! event is planned exactly once (an advisory lock keeps one planner per reactor
//! across replicas). Deliveries are then performed at least once: a worker
//! leases due ones (`SKIP LOCKED`, so replicas share the work), records every
//! attempt in `reactor_attempt`, retries failures with exponential backoff and
//! parks a delivery that keeps failing. Parked deliveries stay visible
//! (`invite-ledger reactors status`) until `invite-ledger reactors retry` puts
//! them back. A crash between sending and recording means the lease runs out and
//! the delivery goes again: duplicates are possible, losses are not.
//!
//! A reactor that wants order per key (webhooks: per invite) gets it: a delivery
//! waits while an earlier one with its key is not delivered, parked included.
//!
//! The server (`serve`) runs the reactors; short-lived commands do not. A reactor
//! seen for the first time starts at the current end of the log: a
//! webhook configured today does not receive the past, and invites created before
//! the email reactor existed had their email sent already.

mod admin;
mod companion;
mod email;
pub mod envelope;
mod nats;
mod runner;
mod sweeper;
mod webhook;
mod withheld;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::join_all;
use serde_json::Value;
use sqlx::PgConnection;
use tokio::task::JoinHandle;

use crate::context::Context;
use crate::domain::invite_link::InviteLinks;
use crate::ledger::RecordedEvent;
use crate::mailer::{Mailer, Templates};

pub use admin::{parked, retry, status, ParkedDelivery, ReactorStatus, RetryTarget};
pub use email::EmailReactor;
pub use nats::NatsReactor;
pub use runner::DeliveryPolicy;
pub use sweeper::sweep_expired;
pub use webhook::{sign, WebhookReactor};

/// What a reactor asks to be delivered for one event.
pub struct Planned {
    /// Deliveries with one key go out in order, if the reactor is `ordered`.
    pub key: String,
    pub payload: Value,
}

/// A delivery leased for one attempt.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub event_position: i64,
    /// The event's transaction id: with the position, where to read it.
    pub event_xid: i64,
    pub key: String,
    pub payload: Value,
    /// Counting this one.
    pub attempt: i32,
}

#[async_trait]
pub trait Reactor: Send + Sync {
    fn name(&self) -> &'static str;
    /// Whether one key's deliveries must go out in log order.
    fn ordered(&self) -> bool;
    /// The delivery an event calls for, if any. Runs inside the planning
    /// transaction: it must not cause side effects.
    async fn plan(
        &self,
        conn: &mut PgConnection,
        event: &RecordedEvent,
    ) -> anyhow::Result<Option<Planned>>;
    /// Performs a delivery once; an error is recorded and retried later.
    async fn deliver(&self, delivery: &Delivery) -> anyhow::Result<()>;
    /// How many deliveries one worker leases and performs at once.
    fn batch_size(&self) -> usize {
        DELIVERY_BATCH
    }
    /// Performs a leased batch, all at once, each delivery once and `within`
    /// the timeout; the outcomes come back in the deliveries' order. A reactor
    /// whose deliveries each read the log overrides it to read once per batch.
    async fn deliver_batch(
        &self,
        deliveries: &[Delivery],
        timeout: Duration,
    ) -> Vec<anyhow::Result<()>> {
        join_all(deliveries.iter().map(|d| within(timeout, self.deliver(d)))).await
    }
    /// When a planned delivery is first due; at once unless the reactor says.
    fn not_before(&self, _event: &RecordedEvent) -> Option<chrono::DateTime<chrono::Utc>> {
        None
    }
}

/// Deliveries a worker performs at once, unless its reactor says otherwise.
const DELIVERY_BATCH: usize = 16;

/// One attempt, or a batch's shared read: failed once it takes over `timeout`.
async fn within<T>(
    timeout: Duration,
    attempt: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or_else(|_| Err(anyhow::anyhow!("timed out after {timeout:?}")))
}

/// What the reactors run with: the use cases' context (the sweeper appends
/// through it) and the mailer invitations leave by.
pub struct Wiring {
    pub context: Context,
    pub mailer: Arc<dyn Mailer>,
}

/// The reactors this configuration runs: email always, webhooks and NATS when
/// configured.
pub fn configured(wiring: &Wiring) -> anyhow::Result<Vec<Arc<dyn Reactor>>> {
    let app = &wiring.context;
    let settings = &app.settings;
    let config = &settings.config;
    let templates = Templates::load(config.mail_template_dir.as_deref())?;
    let email = EmailReactor {
        pool: app.pool.clone(),
        mailer: wiring.mailer.clone(),
        templates,
        links: InviteLinks::new(&settings.base_url),
        token_seal: settings.token_seal.clone(),
        token_hasher: settings.token_hasher.clone(),
    };
    let mut reactors: Vec<Arc<dyn Reactor>> = vec![Arc::new(email)];
    if let Some(webhook) = WebhookReactor::from_config(config, app.pool.clone())? {
        reactors.push(Arc::new(webhook));
    }
    if let Some(nats) = NatsReactor::from_config(config, app.pool.clone())? {
        reactors.push(Arc::new(nats));
    }
    // Companion mode: they plan nothing until a Better Auth plugin acts.
    reactors.push(Arc::new(companion::SeatSettler::new(app.clone())?));
    reactors.push(Arc::new(companion::RoleDelivery::new(app.clone())?));
    Ok(reactors)
}

/// Starts every configured reactor and the expiry sweeper.
pub async fn spawn(wiring: impl Into<Wiring>) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let wiring = wiring.into();
    let app = &wiring.context;
    if app.settings.token_seal.is_dev_key {
        tracing::warn!("TOKEN_SEALING_KEY is not set: private invites' tokens are sealed with the public development key");
    }
    if app.settings.token_hasher.is_dev_key {
        tracing::warn!("TOKEN_HASH_KEY is not set: invites' tokens are hashed under the public development key");
    }
    let policy = DeliveryPolicy::from_config(&app.settings.config);
    let reactors = configured(&wiring)?;
    for reactor in &reactors {
        runner::start_at_log_end(&app.pool, reactor.name()).await?;
    }
    let mut handles = vec![tokio::spawn(runner::run(
        app.pool.clone(),
        reactors,
        policy,
        app.ledger.appended(),
    ))];
    handles.push(tokio::spawn(sweeper::run(app.clone())));
    Ok(handles)
}
