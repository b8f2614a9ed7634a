//! Password reset links: single-use, expiring, stored as a keyed hash (the
//! `password_reset` table), never in the log.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

/// A reset link waiting to be emailed.
pub struct PendingReset {
    pub token_hash: String,
    pub sealed_token: String,
    pub callback_url: Option<String>,
}

pub async fn store(
    pool: &PgPool,
    token_hash: &str,
    user_id: &str,
    sealed_token: &str,
    callback_url: Option<&str>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO password_reset
             (token_hash, user_id, sealed_token, callback_url, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(sealed_token)
    .bind(callback_url)
    .bind(now)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// The newest link of this user not emailed nor used yet (its expiry is
/// checked when it is used).
pub async fn to_send(pool: &PgPool, user_id: &str) -> sqlx::Result<Option<PendingReset>> {
    let row: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT token_hash, sealed_token, callback_url FROM password_reset
          WHERE user_id = $1 AND sealed_token IS NOT NULL AND used_at IS NULL
          ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    Ok(
        row.map(|(token_hash, sealed_token, callback_url)| PendingReset {
            token_hash,
            sealed_token,
            callback_url,
        }),
    )
}

/// Once emailed, the token is kept as its hash alone.
pub async fn sent(pool: &PgPool, token_hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE password_reset SET sealed_token = NULL WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// The user of a usable link, without using it.
pub async fn user_of(
    pool: &PgPool,
    token_hash: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT user_id FROM password_reset
          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await
}

/// Uses the link, once: the user it was for, or `None` when it is unknown,
/// expired or used already (a twin request loses the race here).
pub async fn consume(
    conn: &mut PgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "UPDATE password_reset SET used_at = $2, sealed_token = NULL
          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
          RETURNING user_id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}
