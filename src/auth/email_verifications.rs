//! Email verification links: single-use, expiring, stored as a keyed hash (the
//! `email_verification` table), never in the log. A link either proves the
//! account's own address (`verify`) or a new one it asked to move to (`change`).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// What a link proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Verify,
    Change,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Change => "change",
        }
    }

    fn parse(text: &str) -> Purpose {
        if text == "change" {
            Purpose::Change
        } else {
            Purpose::Verify
        }
    }
}

/// A link to store: its token's hash and sealed form, and the address it goes to.
pub struct NewLink<'a> {
    pub token_hash: &'a str,
    pub sealed_token: &'a str,
    pub user_id: &'a str,
    pub purpose: Purpose,
    pub email: &'a str,
    pub callback_url: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn store(pool: &PgPool, link: &NewLink<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO email_verification (token_hash, user_id, purpose, email, sealed_token,
                                         callback_url, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(link.token_hash)
    .bind(link.user_id)
    .bind(link.purpose.as_str())
    .bind(link.email)
    .bind(link.sealed_token)
    .bind(link.callback_url)
    .bind(link.now)
    .bind(link.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// A link waiting to be emailed.
pub struct PendingLink {
    pub token_hash: String,
    pub sealed_token: String,
    pub email: String,
    pub callback_url: Option<String>,
}

/// The newest link of this user not emailed nor used yet.
pub async fn to_send(pool: &PgPool, user_id: &str) -> sqlx::Result<Option<PendingLink>> {
    let row: Option<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT token_hash, sealed_token, email, callback_url FROM email_verification
          WHERE user_id = $1 AND sealed_token IS NOT NULL AND used_at IS NULL
          ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(
        |(token_hash, sealed_token, email, callback_url)| PendingLink {
            token_hash,
            sealed_token,
            email,
            callback_url,
        },
    ))
}

/// Once emailed, the token is kept as its hash alone.
pub async fn sent(pool: &PgPool, token_hash: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE email_verification SET sealed_token = NULL WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// A link used once: whose it was, what it proves, and the address.
pub struct UsedLink {
    pub user_id: String,
    pub purpose: Purpose,
    pub email: String,
}

/// Why a link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// Unknown, or used already.
    Invalid,
    Expired,
}

/// Uses the link, once (a twin request loses the race here).
pub async fn consume(
    pool: &PgPool,
    token_hash: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Result<UsedLink, Unusable>> {
    let used: Option<(String, String, String)> = sqlx::query_as(
        "UPDATE email_verification SET used_at = $2, sealed_token = NULL
          WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
          RETURNING user_id, purpose, email",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    if let Some((user_id, purpose, email)) = used {
        return Ok(Ok(UsedLink {
            user_id,
            purpose: Purpose::parse(&purpose),
            email,
        }));
    }
    let expired: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM email_verification
                         WHERE token_hash = $1 AND used_at IS NULL AND expires_at <= $2)",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(Err(if expired {
        Unusable::Expired
    } else {
        Unusable::Invalid
    }))
}
