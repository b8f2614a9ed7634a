//! API keys: random, shown once, stored as a SHA-256 hash. Each has a scope:
//! an `audit` key reads the audit API, a `companion` key is a Better Auth
//! server's (the plugin's) and may call only `/api/companion/*`.

use rand::distributions::{Alphanumeric, DistString};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::token::hash_token;

/// Every key starts with this, so a bearer credential can be told from a session.
pub const PREFIX: &str = "ilk_";

/// What a key may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// The read-only audit API under `/api/ledger`.
    Audit,
    /// The companion API under `/api/companion`, for a Better Auth server.
    Companion,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Audit => "audit",
            Scope::Companion => "companion",
        }
    }

    fn parse(text: &str) -> Option<Scope> {
        match text {
            "audit" => Some(Scope::Audit),
            "companion" => Some(Scope::Companion),
            _ => None,
        }
    }
}

pub struct NewApiKey {
    pub id: Uuid,
    /// The raw key: printed once, never stored.
    pub key: String,
}

/// A key that exists: its id and scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownKey {
    pub id: Uuid,
    pub scope: Scope,
    /// A companion key whose plugin has said `hello` (its callback is known).
    pub greeted: bool,
}

/// A key of the audit scope.
pub async fn create(pool: &PgPool, name: &str) -> sqlx::Result<NewApiKey> {
    create_scoped(pool, name, Scope::Audit).await
}

pub async fn create_scoped(pool: &PgPool, name: &str, scope: Scope) -> sqlx::Result<NewApiKey> {
    let key = format!(
        "{PREFIX}{}",
        Alphanumeric.sample_string(&mut rand::thread_rng(), 40)
    );
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO api_key (id, name, key_hash, scope) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(name)
        .bind(hash_token(&key))
        .bind(scope.as_str())
        .execute(pool)
        .await?;
    Ok(NewApiKey { id, key })
}

/// The key `key` is, if any; notes when it was last used, to the minute.
/// Writing on every request would make each audit read commit a transaction and
/// wait for the WAL to reach the disk: an UPDATE that matches no row writes
/// nothing, so a key used again within the minute costs one index lookup.
pub async fn identify(pool: &PgPool, key: &str) -> sqlx::Result<Option<KnownKey>> {
    let found: Option<(Uuid, String, bool)> = sqlx::query_as(
        "WITH known AS (SELECT id, scope, last_used_at FROM api_key WHERE key_hash = $1),
              noted AS (UPDATE api_key SET last_used_at = now()
                         WHERE id IN (SELECT id FROM known
                                       WHERE last_used_at IS NULL
                                          OR last_used_at < now() - interval '1 minute'))
         SELECT id, scope,
                EXISTS (SELECT 1 FROM companion_callback c WHERE c.api_key_id = known.id)
           FROM known",
    )
    .bind(hash_token(key))
    .fetch_optional(pool)
    .await?;
    Ok(found.and_then(|(id, scope, greeted)| {
        Scope::parse(&scope).map(|scope| KnownKey { id, scope, greeted })
    }))
}

/// Whether `key` is a known key of any scope.
pub async fn verify(pool: &PgPool, key: &str) -> sqlx::Result<bool> {
    Ok(identify(pool, key).await?.is_some())
}
