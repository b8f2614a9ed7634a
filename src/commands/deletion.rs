//! Better Auth's `deleteUser`: the signed-in user deletes their own account,
//! which erases the person as the audit API's erasure does (an `Erased` event
//! by themselves). The current password, or a fresh session, proves it is them.

use crate::auth::accounts::Account;
use crate::auth::session::Session;
use crate::auth::{password, passwords};
use crate::context::Context;
use crate::error::ServiceError;

/// Better Auth's answer.
pub const USER_DELETED: &str = "User deleted";

pub async fn delete_own(
    app: &Context,
    account: &Account,
    session: &Session,
    password_given: Option<String>,
    token: Option<String>,
) -> Result<(), ServiceError> {
    let config = &app.settings.config;
    if !config.delete_user_enabled {
        return Err(ServiceError::NotFound {
            code: "NOT_FOUND",
            message: "Not found".into(),
        });
    }
    match password_given {
        Some(given) => {
            if given.chars().count() > 128 {
                return Err(ServiceError::bad_request(
                    "PASSWORD_TOO_LONG",
                    "Password too long",
                ));
            }
            let Some(stored) = passwords::hash_of(&app.pool, &account.id).await? else {
                return Err(ServiceError::bad_request(
                    "CREDENTIAL_ACCOUNT_NOT_FOUND",
                    "Credential account not found",
                ));
            };
            if !password::verify(given, stored).await {
                return Err(ServiceError::bad_request(
                    "INVALID_PASSWORD",
                    "Invalid password",
                ));
            }
        }
        // Without the password, only a session opened within `SESSION_FRESH_AGE`.
        None if config.session_fresh_age != 0 => {
            let age = app.clock.now() - session.created_at;
            if age.num_seconds() >= config.session_fresh_age {
                return Err(ServiceError::bad_request(
                    "SESSION_EXPIRED",
                    "Session expired. Re-authenticate to perform this action.",
                ));
            }
        }
        None => {}
    }
    // No deletion link is ever emailed here, so no token is one of ours.
    if token.is_some() {
        return Err(ServiceError::bad_request("INVALID_TOKEN", "Invalid token"));
    }
    super::erasure::erase(app, &account.id, &account.id).await?;
    Ok(())
}
