//! Erasing a person's personal data (decision 14): their key is deleted and an
//! `Erased` event recorded; the log is never rewritten. From then on their
//! emails and names read `[erased]` everywhere (read models, `as_of`, feed,
//! exports, webhooks, emails); ids, the tree and counts stay.

use serde::Serialize;
use sqlx::PgPool;

use super::person_ids;
use crate::context::Context;
use crate::domain::normalize_email;
use crate::domain::user::{user_id_for_email, UserError};
use crate::error::ServiceError;
use crate::ledger::personal::ERASED;
use crate::ledger::Position;
use crate::rate_limit::SIGN_IN_ACCOUNT;

/// What an erasure did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Erasure {
    /// The person's user id.
    pub user_id: String,
    /// `true`: erased before; nothing was recorded this time.
    pub already_erased: bool,
    /// The log position of the `Erased` event (absent when already erased).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

/// The person a user id or an email names: for an email, the account that has
/// it now (a sign-up after an erasure is a new person), else its first life.
pub async fn person_of(pool: &PgPool, id_or_email: &str) -> Result<String, ServiceError> {
    let target = id_or_email.trim();
    if target.is_empty() {
        return Err(ServiceError::bad_request(
            "VALIDATION_ERROR",
            "Name a user id or an email",
        ));
    }
    if target.contains('@') {
        return person_ids::current(pool, &normalize_email(target)).await;
    }
    Ok(target.to_string())
}

/// Erases the person named by `id_or_email`, as `by_user_id` asks (an admin;
/// the caller checks). Erasing again records nothing and says so.
pub async fn erase(
    app: &Context,
    by_user_id: &str,
    id_or_email: &str,
) -> Result<Erasure, ServiceError> {
    let person = person_of(&app.pool, id_or_email).await?;
    if !is_known(&app.pool, &person).await? {
        return Err(ServiceError::User(UserError::NotFound));
    }
    let emails = emails_of(&app.pool, &person).await?;
    let position = app
        .ledger
        .erase_person(&person, by_user_id, app.clock.now())
        .await?;
    // An erased person is signed out everywhere; their sessions hold their
    // address and browser.
    sqlx::query("DELETE FROM session WHERE user_id = $1")
        .bind(&person)
        .execute(&app.pool)
        .await?;
    crate::auth::passwords::forget(&app.pool, &person).await?;
    scrub_delivery_errors(&app.pool, &emails).await?;
    // Invites to their email sealed it under the email's first id (the first
    // life's): when that is not this person and holds a live key, it goes too.
    for email in &emails {
        let first = user_id_for_email(email);
        if first != person && has_live_key(&app.pool, &first).await? {
            let erased = app
                .ledger
                .erase_person(&first, by_user_id, app.clock.now())
                .await?;
            app.written(erased);
        }
    }
    super::receipt_erasure::erase_from_receipts(app, &person, &emails).await?;
    for email in &emails {
        app.limiter.forget(SIGN_IN_ACCOUNT, email).await?;
    }
    app.written(position);
    Ok(Erasure {
        user_id: person,
        already_erased: position.is_none(),
        position: position.map(|p: Position| p.to_string()),
    })
}

/// Someone the ledger has seen: a key, an account's events, or an invite to
/// them from before keys existed.
async fn is_known(pool: &PgPool, person: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM person_key WHERE person_id = $1)
             OR EXISTS (SELECT 1 FROM events WHERE aggregate_type = 'user' AND aggregate_id = $1)
             OR EXISTS (SELECT 1 FROM invite WHERE invitee_id = $1)",
    )
    .bind(person)
    .fetch_one(pool)
    .await
}

async fn has_live_key(pool: &PgPool, person: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM person_key WHERE person_id = $1 AND key IS NOT NULL)",
    )
    .bind(person)
    .fetch_one(pool)
    .await
}

/// The person's email addresses as the read models show them now.
async fn emails_of(pool: &PgPool, person: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT email FROM user_account WHERE id = $1 AND email <> $2
         UNION
         SELECT email FROM invite WHERE invitee_id = $1 AND email <> $2",
    )
    .bind(person)
    .bind(ERASED)
    .fetch_all(pool)
    .await
}

/// A mail server's refusal may quote the address it refused: those quotes in
/// delivery errors (operational records, not the log) are replaced.
async fn scrub_delivery_errors(pool: &PgPool, emails: &[String]) -> sqlx::Result<()> {
    for email in emails {
        sqlx::query(
            "UPDATE reactor_attempt SET error = replace(error, $1, $2)
              WHERE strpos(error, $1) > 0",
        )
        .bind(email)
        .bind(ERASED)
        .execute(pool)
        .await?;
        sqlx::query(
            "UPDATE reactor_delivery SET last_error = replace(last_error, $1, $2)
              WHERE strpos(last_error, $1) > 0",
        )
        .bind(email)
        .bind(ERASED)
        .execute(pool)
        .await?;
    }
    Ok(())
}
