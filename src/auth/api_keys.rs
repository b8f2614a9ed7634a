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

/// Whether `key` is a known key; notes when it was last used, to the minute.
/// Writing on every request would make each audit read commit a transaction and
/// wait for the WAL to reach the disk: an UPDATE that matches no row writes
/// nothing, so a key used again within the minute costs one index lookup.
pub async fn verify(pool: &PgPool, key: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "WITH known AS (SELECT id, last_used_at FROM api_key WHERE key_hash = $1),
              noted AS (UPDATE api_key SET last_used_at = now()
                         WHERE id IN (SELECT id FROM known
                                       WHERE last_used_at IS NULL
                                          OR last_used_at < now() - interval '1 minute'))
         SELECT EXISTS (SELECT 1 FROM known)",
    )
    .bind(hash_token(key))
    .fetch_one(pool)
    .await
}
