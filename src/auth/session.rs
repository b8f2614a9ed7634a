//! Sessions: a random token handed to the client once; only its hash is stored.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::token::hash_token;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: Uuid,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

pub struct NewSession {
    pub session: Session,
    /// The raw token: goes into the cookie and the response, never into the database.
    pub token: String,
}

pub async fn create(
    pool: &PgPool,
    user_id: &str,
    now: DateTime<Utc>,
    lifetime: Duration,
    ip_address: Option<String>,
    user_agent: Option<String>,
) -> sqlx::Result<NewSession> {
    let token: String = rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let session = Session {
        id: Uuid::new_v4(),
        user_id: user_id.to_string(),
        created_at: now,
        expires_at: now + lifetime,
        ip_address,
        user_agent,
    };
    sqlx::query(
        "INSERT INTO session (id, token_hash, user_id, created_at, expires_at, ip_address, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(session.id)
    .bind(hash_token(&token))
    .bind(&session.user_id)
    .bind(session.created_at)
    .bind(session.expires_at)
    .bind(&session.ip_address)
    .bind(&session.user_agent)
    .execute(pool)
    .await?;
    Ok(NewSession { session, token })
}

/// The live session behind a raw token, if any.
pub async fn find(pool: &PgPool, token: &str, now: DateTime<Utc>) -> sqlx::Result<Option<Session>> {
    sqlx::query_as(
        "SELECT id, user_id, created_at, expires_at, ip_address, user_agent
           FROM session WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(hash_token(token))
    .bind(now)
    .fetch_optional(pool)
    .await
}

pub async fn delete(pool: &PgPool, token: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM session WHERE token_hash = $1")
        .bind(hash_token(token))
        .execute(pool)
        .await?;
    Ok(())
}
