//! Retries that never duplicate (`Idempotency-Key`): the first answer of a
//! write is kept, sealed, in a receipt written in the transaction of its events
//! (`ledger::Guard`); a retry with the same key and the same request gets that
//! answer back and writes nothing. Keys are per user and live 24 hours.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::context::Context;
use crate::error::ServiceError;
use crate::ledger::{Admission, Position, Receipt, RECEIPT_LIFETIME};

/// Longest key accepted (Stripe's and the IETF draft's keys are far shorter).
pub const MAX_KEY_LENGTH: usize = 255;
/// Expired receipts are swept once every this many lookups.
const SWEEP_EVERY: u64 = 500;

/// A write that carries an `Idempotency-Key`: whose, which key, and the
/// fingerprint of what it asks (route, query and body).
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    pub user_id: String,
    pub key: String,
    pub fingerprint: Vec<u8>,
}

/// An answer kept under a key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptAnswer {
    pub status: u16,
    pub body: Value,
}

/// What a key holds for a request.
pub enum Lookup {
    /// Nothing live: go ahead.
    Free,
    /// The same request was answered: this is its answer.
    Answered(KeptAnswer),
    /// Another request was made under this key.
    Reused,
}

impl IdempotentRequest {
    /// The key as sent (checked: 1 to 255 visible ASCII characters, no space), for a
    /// user and the request's route, query and body.
    pub fn new(
        user_id: &str,
        key: &str,
        route: &str,
        query: &str,
        body: &[u8],
    ) -> Result<Self, ServiceError> {
        // Visible means no space either: a key is one token, as in the IETF draft.
        let visible = key.bytes().all(|b| b.is_ascii_graphic());
        if key.is_empty() || key.len() > MAX_KEY_LENGTH || !visible {
            return Err(ServiceError::bad_request(
                "VALIDATION_ERROR",
                format!("Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters, no space"),
            ));
        }
        let mut hash = Sha256::new();
        for part in [route.as_bytes(), query.as_bytes(), body] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        Ok(IdempotentRequest {
            user_id: user_id.to_string(),
            key: key.to_string(),
            fingerprint: hash.finalize().to_vec(),
        })
    }

    /// The receipt of a 200 whose body `answer` gives from what the quota let
    /// through, sealed as it is stored.
    pub fn receipt(
        &self,
        app: &Context,
        at: DateTime<Utc>,
        answer: impl Fn(&Admission) -> Value + Send + Sync + 'static,
    ) -> Receipt {
        let seal = app.settings.token_seal.clone();
        let associated = associated_data(&self.user_id, &self.key);
        Receipt {
            user_id: self.user_id.clone(),
            key: self.key.clone(),
            fingerprint: self.fingerprint.clone(),
            status: 200,
            at,
            answer: Box::new(move |admission| {
                seal.seal(&answer(admission).to_string(), &associated)
            }),
        }
    }

    /// What the key holds for this request, ignoring receipts over 24 hours old.
    pub async fn lookup(&self, app: &Context) -> Result<Lookup, ServiceError> {
        sweep_now_and_then(app);
        let now = app.clock.now();
        let found: Option<(Vec<u8>, i16, String)> = sqlx::query_as(
            "SELECT fingerprint, status, answer FROM idempotency_receipt
              WHERE user_id = $1 AND key = $2 AND created_at > $3",
        )
        .bind(&self.user_id)
        .bind(&self.key)
        .bind(now - RECEIPT_LIFETIME)
        .fetch_optional(&app.pool)
        .await?;
        let Some((fingerprint, status, sealed)) = found else {
            return Ok(Lookup::Free);
        };
        if fingerprint != self.fingerprint {
            return Ok(Lookup::Reused);
        }
        let body = app
            .settings
            .token_seal
            .open(&sealed, &associated_data(&self.user_id, &self.key))
            .map_err(|e| anyhow::anyhow!("an idempotency receipt does not open: {e}"))?;
        // The kept answer may come from another process that died before its read
        // models caught up: read your writes holds for a replay as for the first answer.
        app.settle(Position::head(&app.pool).await?).await;
        Ok(Lookup::Answered(KeptAnswer {
            status: status as u16,
            body: serde_json::from_str(&body).map_err(anyhow::Error::from)?,
        }))
    }
}

/// Binds a sealed answer to its user and key: it cannot be moved to another.
pub(crate) fn associated_data(user_id: &str, key: &str) -> String {
    format!("idempotency\n{user_id}\n{key}")
}

/// Deletes receipts past their 24 hours, in the background, once in a while.
fn sweep_now_and_then(app: &Context) {
    static LOOKUPS: AtomicU64 = AtomicU64::new(0);
    if LOOKUPS.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
        return;
    }
    let (pool, expired_before) = (app.pool.clone(), app.clock.now() - RECEIPT_LIFETIME);
    tokio::spawn(async move {
        let swept = sqlx::query("DELETE FROM idempotency_receipt WHERE created_at <= $1")
            .bind(expired_before)
            .execute(&pool)
            .await;
        if let Err(error) = swept {
            tracing::warn!(%error, "could not sweep expired idempotency receipts");
        }
    });
}
