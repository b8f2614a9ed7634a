//! Sessions: a random token handed to the client once; only its hash is stored.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sqlx::{PgPool, Row as _};
use uuid::Uuid;

use super::accounts::Account;
use crate::domain::token::hash_token;
use crate::projections::row::Row;

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

/// The live session behind a raw token and its account, in one query.
pub async fn find_with_account(
    pool: &PgPool,
    token: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<(Session, Account)>> {
    static QUERY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let account: Vec<String> = Account::COLUMNS.iter().map(|c| format!("a.{c}")).collect();
        format!(
            "SELECT {}, s.id AS session_id, s.created_at AS session_created_at,
                    s.expires_at AS session_expires_at, s.ip_address, s.user_agent
               FROM session s JOIN user_account a ON a.id = s.user_id
              WHERE s.token_hash = $1 AND s.expires_at > $2",
            account.join(", ")
        )
    });
    let Some(row) = sqlx::query(&QUERY)
        .bind(hash_token(token))
        .bind(now)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let account: Account = sqlx::FromRow::from_row(&row)?;
    let session = Session {
        id: row.try_get("session_id")?,
        user_id: account.id.clone(),
        created_at: row.try_get("session_created_at")?,
        expires_at: row.try_get("session_expires_at")?,
        ip_address: row.try_get("ip_address")?,
        user_agent: row.try_get("user_agent")?,
    };
    Ok(Some((session, account)))
}

pub async fn delete(pool: &PgPool, token: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM session WHERE token_hash = $1")
        .bind(hash_token(token))
        .execute(pool)
        .await?;
    Ok(())
}

/// Ends every session of `user_id` but `keep` (every one without it); how many.
pub async fn delete_all_of(pool: &PgPool, user_id: &str, keep: Option<Uuid>) -> sqlx::Result<u64> {
    let done =
        sqlx::query("DELETE FROM session WHERE user_id = $1 AND ($2::uuid IS NULL OR id <> $2)")
            .bind(user_id)
            .bind(keep)
            .execute(pool)
            .await?;
    Ok(done.rows_affected())
}

/// Ends the session of `user_id` behind a raw token (or a session id, which
/// is what a list of sessions can show); whether there was one.
pub async fn delete_own(pool: &PgPool, user_id: &str, token: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("DELETE FROM session WHERE user_id = $1 AND (token_hash = $2 OR id = $3)")
            .bind(user_id)
            .bind(hash_token(token))
            .bind(Uuid::parse_str(token).ok())
            .execute(pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The live sessions of `user_id`, newest first.
pub async fn list_of(
    pool: &PgPool,
    user_id: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Session>> {
    sqlx::query_as(
        "SELECT id, user_id, created_at, expires_at, ip_address, user_agent FROM session
          WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(pool)
    .await
}
