//! The id a standalone sign-up gets: the UUID v5 of the normalized email
//! (`user_id_for_email`), unless that person was erased. An erased id never
//! registers again, so a sign-up with an erased address is a new person,
//! inheriting none of the erased one's invites or roles: the n-th life of an
//! email is the UUID v5 of `<email>\n<n>`, the first life whose id was not erased.
//! An id whose account moved to another address (`change-email`) is skipped
//! the same way: the address is free, the id is not.

use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::user::user_id_for_email;
use crate::error::ServiceError;

/// Lives an email may have: a bound on the walk, far beyond any real use.
const MAX_LIVES: u32 = 1_000;

/// The id of the `life`-th person with this (normalized) email.
pub fn id_of_life(normalized_email: &str, life: u32) -> String {
    const NAMESPACE: Uuid = Uuid::from_u128(0x9d3f_41c2_6a7e_4b58_8e21_c07a_5f4d_93b6);
    if life <= 1 {
        return user_id_for_email(normalized_email);
    }
    Uuid::new_v5(&NAMESPACE, format!("{normalized_email}\n{life}").as_bytes()).to_string()
}

/// The id for a new account with this email: that of the first life neither
/// erased nor held by an account (one that moved to another address).
pub async fn for_new_account(
    pool: &PgPool,
    normalized_email: &str,
) -> Result<String, ServiceError> {
    for life in 1..=MAX_LIVES {
        let id = id_of_life(normalized_email, life);
        if !was_erased(pool, &id).await? && !has_account(pool, &id).await? {
            return Ok(id);
        }
    }
    Err(anyhow::anyhow!("an email erased {MAX_LIVES} times").into())
}

/// The person an email names now: the account that has it, else its first life
/// (an invitee without an account is keyed by it).
pub async fn current(pool: &PgPool, normalized_email: &str) -> Result<String, ServiceError> {
    let account: Option<String> =
        sqlx::query_scalar("SELECT id FROM user_account WHERE email = $1")
            .bind(normalized_email)
            .fetch_optional(pool)
            .await?;
    Ok(account.unwrap_or_else(|| user_id_for_email(normalized_email)))
}

async fn has_account(pool: &PgPool, id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM user_account WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

async fn was_erased(pool: &PgPool, id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM events
                         WHERE aggregate_type = 'user' AND aggregate_id = $1
                           AND event_type = 'Erased')",
    )
    .bind(id)
    .fetch_one(pool)
    .await
}
