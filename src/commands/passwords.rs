//! Better Auth's password routes: a reset link by email, the reset itself, and
//! a change by the signed-in holder. Each change is an event of the person
//! (who and when); the hash and the link's token live in mutable tables.

use chrono::Duration;

use crate::auth::accounts::{self, Account};
use crate::auth::passwords::{self, PasswordSet};
use crate::auth::session::{self, Session};
use crate::auth::{password, password_resets};
use crate::context::Context;
use crate::domain::normalize_email;
use crate::domain::token::random_token;
use crate::domain::user::{PasswordChange, RevokedSessions, UserCommand};
use crate::error::ServiceError;
use crate::ledger::Guard;
use crate::rate_limit::Limit;

/// Better Auth's answer to a reset request, whether or not the address exists.
pub const RESET_REQUESTED: &str =
    "If this email exists in our system, check your email for the reset link";

fn invalid_token() -> ServiceError {
    ServiceError::bad_request("INVALID_TOKEN", "Invalid token")
}

/// Better Auth's password length rules, with its codes.
pub fn check_length(app: &Context, password: &str) -> Result<(), ServiceError> {
    let length = password.chars().count();
    if length < app.settings.config.passwords.min_password_length {
        return Err(ServiceError::bad_request(
            "PASSWORD_TOO_SHORT",
            "Password too short",
        ));
    }
    if length > 128 {
        return Err(ServiceError::bad_request(
            "PASSWORD_TOO_LONG",
            "Password too long",
        ));
    }
    Ok(())
}

/// `POST /request-password-reset`: for a known address, a single-use link
/// (its token stored as a hash) and a `PasswordResetRequested` event the email
/// reactor sends it from. The answer is the same for every address; each
/// address gets at most `PASSWORD_RESETS_PER_EMAIL` emails an hour.
pub async fn request_reset(
    app: &Context,
    email: &str,
    callback_url: Option<String>,
) -> Result<(), ServiceError> {
    let email = normalize_email(email);
    let per_email = Limit {
        name: "password-reset-email",
        max: app.settings.config.password_resets_per_email,
        window: std::time::Duration::from_secs(3600),
    };
    // Counted before the lookup, for known and unknown addresses alike.
    if app.limiter.count(&per_email, &email).await?.is_some() {
        return Ok(());
    }
    let Some(account) = accounts::by_email(&app.pool, &email).await? else {
        return Ok(());
    };
    let now = app.clock.now();
    let token = random_token(&mut rand::thread_rng());
    let hash = app.settings.token_hasher.keyed(&token);
    let sealed = app.settings.token_seal.seal(&token, &hash);
    let expires_at = now + Duration::seconds(app.settings.config.reset_password_token_expires_in);
    password_resets::store(
        &app.pool,
        &hash,
        &account.id,
        &sealed,
        callback_url.as_deref(),
        now,
        expires_at,
    )
    .await?;
    let position = app
        .ledger
        .execute(
            &account.id,
            UserCommand::RequestPasswordReset { at: now },
            &Guard::default(),
        )
        .await?;
    app.written(position);
    Ok(())
}

/// The user a reset token is for, while it can be used (the link's check).
pub async fn reset_token_user(app: &Context, token: &str) -> Result<String, ServiceError> {
    let hash = app.settings.token_hasher.keyed(token);
    password_resets::user_of(&app.pool, &hash, app.clock.now())
        .await?
        .ok_or_else(invalid_token)
}

/// `POST /reset-password`: uses the link once, sets the password (a
/// `PasswordSet` event, the hash beside it) and ends every session.
pub async fn reset(app: &Context, token: &str, new_password: String) -> Result<(), ServiceError> {
    check_length(app, &new_password)?;
    let now = app.clock.now();
    let hash = app.settings.token_hasher.keyed(token);
    let mut conn = app.pool.acquire().await?;
    let user_id = password_resets::consume(&mut conn, &hash, now)
        .await?
        .ok_or_else(invalid_token)?;
    drop(conn);
    let password_hash = password::hash(new_password, app.settings.password_cost).await?;
    set_password(
        app,
        &user_id,
        &user_id,
        PasswordChange::Reset,
        password_hash,
    )
    .await?;
    end_sessions(app, &user_id, &user_id, None).await
}

/// `POST /change-password`: the current password first; with
/// `revokeOtherSessions`, every other session ends. Returns the account.
pub async fn change(
    app: &Context,
    account: &Account,
    session: &Session,
    current_password: String,
    new_password: String,
    revoke_other_sessions: bool,
) -> Result<Account, ServiceError> {
    check_length(app, &new_password)?;
    let stored = passwords::hash_of(&app.pool, &account.id).await?;
    let valid = match stored {
        Some(stored) => password::verify(current_password, stored).await,
        None => false,
    };
    if !valid {
        return Err(ServiceError::bad_request(
            "INVALID_PASSWORD",
            "Invalid password",
        ));
    }
    let password_hash = password::hash(new_password, app.settings.password_cost).await?;
    set_password(
        app,
        &account.id,
        &account.id,
        PasswordChange::Changed,
        password_hash,
    )
    .await?;
    if revoke_other_sessions {
        end_sessions(app, &account.id, &account.id, Some(session)).await?;
    }
    Ok(accounts::by_id(&app.pool, &account.id)
        .await?
        .unwrap_or_else(|| account.clone()))
}

async fn set_password(
    app: &Context,
    user_id: &str,
    by_user_id: &str,
    how: PasswordChange,
    hash: String,
) -> Result<(), ServiceError> {
    let at = app.clock.now();
    let guard = Guard {
        password: Some(PasswordSet {
            user_id: user_id.to_string(),
            hash,
            at,
        }),
        ..Guard::default()
    };
    let command = UserCommand::SetPassword {
        how,
        by_user_id: by_user_id.to_string(),
        at,
    };
    let position = app.ledger.execute(user_id, command, &guard).await?;
    app.written(position);
    Ok(())
}

/// Ends `user_id`'s sessions (all, or all but `keep`) and records it.
pub async fn end_sessions(
    app: &Context,
    user_id: &str,
    by_user_id: &str,
    keep: Option<&Session>,
) -> Result<(), ServiceError> {
    let which = match keep {
        Some(_) => RevokedSessions::AllButCurrent,
        None => RevokedSessions::All,
    };
    record_revocation(app, user_id, by_user_id, which).await?;
    session::delete_all_of(&app.pool, user_id, keep.map(|s| s.id)).await?;
    Ok(())
}

/// `POST /revoke-session`: one of the user's own sessions, by its token.
pub async fn end_one_session(
    app: &Context,
    account: &Account,
    token: &str,
) -> Result<(), ServiceError> {
    if session::delete_own(&app.pool, &account.id, token).await? {
        record_revocation(app, &account.id, &account.id, RevokedSessions::One).await?;
    }
    Ok(())
}

async fn record_revocation(
    app: &Context,
    user_id: &str,
    by_user_id: &str,
    which: RevokedSessions,
) -> Result<(), ServiceError> {
    let command = UserCommand::RevokeSessions {
        which,
        by_user_id: by_user_id.to_string(),
        at: app.clock.now(),
    };
    let position = app
        .ledger
        .execute(user_id, command, &Guard::default())
        .await?;
    app.written(position);
    Ok(())
}
