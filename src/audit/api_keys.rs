//! API keys for the audit API: random, shown once, stored as a SHA-256 hash.

use rand::distributions::{Alphanumeric, DistString};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::token::hash_token;

/// Every key starts with this, so a bearer credential can be told from a session.
pub const PREFIX: &str = "ilk_";

pub struct NewApiKey {
    pub id: Uuid,
    /// The raw key: printed once, never stored.
    pub key: String,
}

pub async fn create(pool: &PgPool, name: &str) -> sqlx::Result<NewApiKey> {
    let key = format!(
        "{PREFIX}{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
    );
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO api_key (id, name, key_hash) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(name)
        .bind(hash_token(&key))
        .execute(pool)
        .await?;
    Ok(NewApiKey { id, key })
}

/// Whether `key` is a known key; notes when it was last used.
pub async fn verify(pool: &PgPool, key: &str) -> sqlx::Result<bool> {
    let found =
        sqlx::query("UPDATE api_key SET last_used_at = now() WHERE key_hash = $1 RETURNING id")
            .bind(hash_token(key))
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}
