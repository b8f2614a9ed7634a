//! Webhooks: every ledger event, posted as JSON to `WEBHOOK_URL`, signed the
//! Standard Webhooks way (`webhook-id`, `webhook-timestamp`, and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`).
//! One aggregate's events (an invite's, a user's) arrive in log order.
//!
//! The body: `{"type": "invite.used", "timestamp": ..., "data": <the event as
//! /api/ledger/events shows it>}`, or with `WEBHOOK_FORMAT=cloudevents` the
//! CloudEvents envelope NATS gets (`envelope.rs`). Secrets are left out: no
//! sealed token, no password hash. `webhook-id` is `evt_<globalPosition>`, the
//! same on every retry, so receivers can drop duplicates. The body is made
//! from the log when it is sent, so an erased person's fields go out as
//! `[erased]` and the delivery rows hold no personal data.

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use sqlx::{PgConnection, PgPool};

use super::{envelope, Delivery, Planned, Reactor};
use crate::config::{Config, WebhookFormat};
use crate::ledger::RecordedEvent;

pub struct WebhookReactor {
    pool: PgPool,
    client: reqwest::Client,
    url: String,
    secret: Vec<u8>,
    format: WebhookFormat,
}

impl WebhookReactor {
    pub fn from_config(config: &Config, pool: PgPool) -> anyhow::Result<Option<WebhookReactor>> {
        let (Some(url), Some(secret)) = (&config.webhook_url, &config.webhook_secret) else {
            return Ok(None);
        };
        url::Url::parse(url).map_err(|e| anyhow::anyhow!("WEBHOOK_URL `{url}`: {e}"))?;
        let secret = match secret.strip_prefix("whsec_") {
            Some(encoded) => STANDARD.decode(encoded).map_err(|e| {
                anyhow::anyhow!("WEBHOOK_SECRET: whsec_ must be followed by base64: {e}")
            })?,
            None => secret.as_bytes().to_vec(),
        };
        // A redirect is an answer to fix, not to follow: it fails the attempt.
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_millis(config.delivery_timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Some(WebhookReactor {
            pool,
            client,
            url: url.clone(),
            secret,
            format: config.webhook_format,
        }))
    }
}

/// The `webhook-signature` value for this message.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[async_trait]
impl Reactor for WebhookReactor {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn ordered(&self) -> bool {
        true
    }

    async fn plan(
        &self,
        _conn: &mut PgConnection,
        event: &RecordedEvent,
    ) -> anyhow::Result<Option<Planned>> {
        let format = match self.format {
            WebhookFormat::Standard => "standard",
            WebhookFormat::Cloudevents => "cloudevents",
        };
        Ok(Some(Planned {
            key: envelope::ordering_key(event),
            payload: json!({ "format": format }),
        }))
    }

    async fn deliver(&self, delivery: &Delivery) -> anyhow::Result<()> {
        let id = format!("evt_{}", delivery.event_position);
        let timestamp = chrono::Utc::now().timestamp();
        let event = envelope::event_of(&self.pool, delivery).await?;
        // As planned, whatever the format is now.
        let (body, content_type) = match delivery.payload["format"].as_str() {
            Some("cloudevents") => (
                envelope::cloudevent(&event)?,
                "application/cloudevents+json",
            ),
            _ => (envelope::standard(&event), "application/json"),
        };
        let body = serde_json::to_vec(&body)?;
        let response = self
            .client
            .post(&self.url)
            .header("content-type", content_type)
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                sign(&self.secret, &id, timestamp, &body),
            )
            .body(body)
            .send()
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let text: String = text.chars().take(200).collect();
        anyhow::bail!("HTTP {status}: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let secret = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
