//! The plugin's side of the conversation: where it takes the ledger's calls
//! (`hello` stores its callback URL per key, in a mutable table), the secret
//! those calls are signed with (derived from the server's key and the API
//! key's id: nothing new is stored), and the signed call itself.
//!
//! Signature: `X-Invite-Ledger-Signature: t=<unix seconds>,v1=<hex of
//! HMAC-SHA256(secret, "<t>.<body>")>`, the secret's text as the HMAC key.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::Caller;
use crate::context::Context;
use crate::error::ServiceError;

pub const SIGNATURE_HEADER: &str = "x-invite-ledger-signature";
const MAX_URL_LENGTH: usize = 2048;

/// `POST /api/companion/hello`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Hello {
    /// Where the ledger posts `role.decided` and `user.exists` calls (http or https).
    pub callback_url: String,
}

/// What the ledger tells the plugin about itself.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Welcome {
    /// The HMAC key of the ledger's calls to `callbackUrl` (the same on every `hello`).
    pub signing_secret: String,
    /// `INVITE_ONLY`: refuse sign-ups without a valid invite.
    pub invite_only: bool,
    /// The roles the ledger knows, lowest first.
    pub roles: Vec<String>,
    pub default_role: String,
    pub admin_role: String,
    /// How long a reserved seat waits for `confirm` before the ledger asks.
    pub reservation_ttl_seconds: f64,
    pub ledger_version: String,
}

/// The signing secret of a companion key.
pub fn signing_secret(app: &Context, key_id: Uuid) -> String {
    let secret = app
        .settings
        .token_hasher
        .keyed(&format!("companion-signing-secret\n{key_id}"));
    format!("ilss_{secret}")
}

/// The value of `X-Invite-Ledger-Signature` for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

pub async fn hello(app: &Context, caller: Caller, hello: Hello) -> Result<Welcome, ServiceError> {
    let url = hello.callback_url.trim();
    let parsed = url::Url::parse(url).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https") && u.host().is_some() && url.len() <= MAX_URL_LENGTH
    });
    if parsed.is_none() {
        return Err(ServiceError::bad_request(
            "INVALID_CALLBACK_URL",
            "callbackUrl must be an http or https URL",
        ));
    }
    sqlx::query(
        "INSERT INTO companion_callback (api_key_id, callback_url) VALUES ($1, $2)
         ON CONFLICT (api_key_id) DO UPDATE SET callback_url = $2, updated_at = now()",
    )
    .bind(caller.key_id)
    .bind(url)
    .execute(&app.pool)
    .await?;
    let roles = &app.settings.roles;
    let config = &app.settings.config;
    Ok(Welcome {
        signing_secret: signing_secret(app, caller.key_id),
        invite_only: config.invite_only,
        roles: roles.roles().to_vec(),
        default_role: roles.default_role().to_string(),
        admin_role: roles.admin_role().to_string(),
        reservation_ttl_seconds: config.companion_reservation_ttl_ms as f64 / 1000.0,
        ledger_version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// Posts `body` to the callback of `key_id`, signed; the answer's JSON body.
pub async fn call(
    app: &Context,
    client: &reqwest::Client,
    key_id: Uuid,
    body: &serde_json::Value,
    timeout: Duration,
) -> anyhow::Result<serde_json::Value> {
    let url: Option<String> =
        sqlx::query_scalar("SELECT callback_url FROM companion_callback WHERE api_key_id = $1")
            .bind(key_id)
            .fetch_optional(&app.pool)
            .await?;
    let Some(url) = url else {
        anyhow::bail!("the plugin of key {key_id} has not said hello: no callback URL");
    };
    let body = serde_json::to_vec(body)?;
    let timestamp = chrono::Utc::now().timestamp();
    let response = client
        .post(&url)
        .timeout(timeout)
        .header("content-type", "application/json")
        .header(
            SIGNATURE_HEADER,
            signature(&signing_secret(app, key_id), timestamp, &body),
        )
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        let text: String = text.chars().take(200).collect();
        anyhow::bail!("HTTP {status}: {text}");
    }
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Null);
    }
    Ok(serde_json::from_str(&text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hex_hmac_of_time_dot_body() {
        // The same as: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac ilss_k
        assert_eq!(
            signature("ilss_k", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=b4d732e8edee9eb4504384e9aebceaf7f08e69289f2218fd38bcfdff1b5f139a"
        );
    }
}
