//! Publishes every ledger event to a NATS JetStream stream (`NATS_URL`,
//! `NATS_STREAM`), as a CloudEvents JSON message on
//! `<NATS_SUBJECT_PREFIX>.<aggregate type>.<event>` (`invite-ledger.invite.used`),
//! its emails and names `null` (`withheld`): erasure cannot reach a stream.
//!
//! It is a reactor like the webhook: planned in the log's order with the
//! checkpoint, delivered at least once, one aggregate's events in order. The
//! message id (`Nats-Msg-Id`) is the event's global position, so JetStream drops
//! the duplicate when a delivery is sent again after a crash or a lost ack
//! (within the stream's duplicate window, set to an hour when we create it).
//! The connection is made on the first delivery, and again after a failed one,
//! so a NATS that is down delays events instead of stopping the server.

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage, stream};
use async_trait::async_trait;
use sqlx::{PgConnection, PgPool};
use tokio::sync::OnceCell;

use super::{envelope, withheld, Delivery, Planned, Reactor};
use crate::config::Config;
use crate::ledger::RecordedEvent;

/// How long JetStream remembers message ids, in a stream we create.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);

pub struct NatsReactor {
    pool: PgPool,
    url: String,
    stream: String,
    prefix: String,
    timeout: Duration,
    jetstream: OnceCell<jetstream::Context>,
}

impl NatsReactor {
    pub fn from_config(config: &Config, pool: PgPool) -> anyhow::Result<Option<NatsReactor>> {
        let Some(url) = &config.nats_url else {
            return Ok(None);
        };
        Ok(Some(NatsReactor {
            pool,
            url: url.clone(),
            stream: config.nats_stream.clone(),
            prefix: config.nats_subject_prefix.clone(),
            timeout: Duration::from_millis(config.delivery_timeout_ms),
            jetstream: OnceCell::new(),
        }))
    }

    /// The JetStream context, connecting and creating the stream if needed.
    async fn jetstream(&self) -> anyhow::Result<&jetstream::Context> {
        self.jetstream
            .get_or_try_init(|| async {
                let client = async_nats::ConnectOptions::new()
                    .connection_timeout(self.timeout)
                    .request_timeout(Some(self.timeout))
                    .connect(self.url.as_str())
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot reach NATS (NATS_URL): {e}"))?;
                let mut context = jetstream::new(client);
                context.set_timeout(self.timeout);
                context
                    .get_or_create_stream(stream::Config {
                        name: self.stream.clone(),
                        subjects: vec![format!("{}.>", self.prefix)],
                        duplicate_window: DUPLICATE_WINDOW,
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| anyhow::anyhow!("stream {} (NATS_STREAM): {e}", self.stream))?;
                Ok(context)
            })
            .await
    }
}

#[async_trait]
impl Reactor for NatsReactor {
    fn name(&self) -> &'static str {
        "nats"
    }

    fn ordered(&self) -> bool {
        true
    }

    async fn plan(
        &self,
        _conn: &mut PgConnection,
        event: &RecordedEvent,
    ) -> anyhow::Result<Option<Planned>> {
        Ok(Some(Planned {
            key: envelope::ordering_key(event),
            // The message is made from the log when sent (see the webhook).
            payload: serde_json::json!({
                "subject": format!("{}.{}", self.prefix, envelope::event_type(event)),
            }),
        }))
    }

    async fn deliver(&self, delivery: &Delivery) -> anyhow::Result<()> {
        let subject = delivery.payload["subject"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("a NATS delivery without a subject"))?
            .to_string();
        let event = envelope::event_of(&self.pool, delivery).await?;
        let mut message = envelope::cloudevent(&event)?;
        let (_, event_type, _) = event.recorded.event.public_json();
        if let Some(data) = message.pointer_mut("/data/data") {
            withheld::withhold_personal(&event_type, data);
        }
        let body = serde_json::to_vec(&message)?;
        let jetstream = self.jetstream().await?;
        let message = PublishMessage::build()
            .message_id(delivery.event_position.to_string())
            .header("content-type", "application/cloudevents+json")
            .payload(body.into());
        let ack = jetstream
            .send_publish(subject, message)
            .await
            .map_err(|e| anyhow::anyhow!("publish to NATS: {e}"))?;
        ack.await
            .map_err(|e| anyhow::anyhow!("NATS did not acknowledge: {e}"))?;
        Ok(())
    }
}
