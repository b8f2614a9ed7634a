//! Stored password hashes: a mutable table beside the log, never an event.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

/// A password hash to store for a user, written in the transaction of the
/// event that goes with it (a registration, a reset).
#[derive(Debug, Clone)]
pub struct PasswordSet {
    pub user_id: String,
    pub hash: String,
    pub at: DateTime<Utc>,
}

pub async fn write(conn: &mut PgConnection, set: &PasswordSet) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO password (user_id, hash, set_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET hash = EXCLUDED.hash, set_at = EXCLUDED.set_at",
    )
    .bind(&set.user_id)
    .bind(&set.hash)
    .bind(set.at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn hash_of(pool: &PgPool, user_id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT hash FROM password WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await
}

/// An erased person's password, reset and verification links.
pub async fn forget(pool: &PgPool, user_id: &str) -> sqlx::Result<()> {
    for table in ["password", "password_reset", "email_verification"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
            .bind(user_id)
            .execute(pool)
            .await?;
    }
    Ok(())
}
