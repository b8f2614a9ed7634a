//! The admin plugin's user management: ban, unban, end a user's sessions,
//! remove a user. Each is an event of the person, with the admin who did it.

use chrono::Duration;

use super::erasure;
use super::passwords;
use crate::auth::accounts::{self, Account};
use crate::auth::session;
use crate::context::Context;
use crate::domain::user::{UserCommand, UserError};
use crate::error::ServiceError;
use crate::ledger::Guard;
use crate::projections::model::ReadModel;
use crate::projections::user_account::UserAccounts;

fn not_yourself(
    admin: &Account,
    user_id: &str,
    code: &'static str,
    message: &str,
) -> Result<(), ServiceError> {
    if admin.id == user_id {
        return Err(ServiceError::bad_request(code, message));
    }
    Ok(())
}

/// A 403 with the admin plugin's `code` unless `admin` holds the admin role.
pub fn must_be_admin(
    app: &Context,
    admin: &Account,
    code: &'static str,
    message: &str,
) -> Result<(), ServiceError> {
    if app.settings.roles.is_admin(&admin.role) {
        return Ok(());
    }
    Err(ServiceError::Forbidden {
        code,
        message: message.into(),
    })
}

/// `POST /admin/ban-user`: a `Banned` event, and every session of the user ends.
pub async fn ban(
    app: &Context,
    admin: &Account,
    user_id: &str,
    reason: Option<String>,
    expires_in: Option<i64>,
) -> Result<Account, ServiceError> {
    must_be_admin(
        app,
        admin,
        "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
        "You are not allowed to ban users",
    )?;
    not_yourself(
        admin,
        user_id,
        "YOU_CANNOT_BAN_YOURSELF",
        "You cannot ban yourself",
    )?;
    if expires_in.is_some_and(|s| !(1..=10 * 365 * 24 * 3600).contains(&s)) {
        return Err(ServiceError::bad_request(
            "VALIDATION_ERROR",
            "banExpiresIn must be 1 second to 10 years",
        ));
    }
    let at = app.clock.now();
    let reason = reason
        .map(|r| r.chars().take(500).collect::<String>())
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| "No reason".to_string());
    let command = UserCommand::Ban {
        reason,
        expires_at: expires_in.map(|s| at + Duration::seconds(s)),
        by_user_id: admin.id.clone(),
        by_role: admin.role.clone(),
        at,
    };
    let position = app
        .ledger
        .execute(user_id, command, &Guard::default())
        .await?;
    session::delete_all_of(&app.pool, user_id, None).await?;
    app.settle_on(position, &[UserAccounts::NAME]).await;
    account(app, user_id).await
}

/// `POST /admin/unban-user`.
pub async fn unban(app: &Context, admin: &Account, user_id: &str) -> Result<Account, ServiceError> {
    must_be_admin(
        app,
        admin,
        "YOU_ARE_NOT_ALLOWED_TO_BAN_USERS",
        "You are not allowed to ban users",
    )?;
    let command = UserCommand::Unban {
        by_user_id: admin.id.clone(),
        by_role: admin.role.clone(),
        at: app.clock.now(),
    };
    let position = app
        .ledger
        .execute(user_id, command, &Guard::default())
        .await?;
    app.settle_on(position, &[UserAccounts::NAME]).await;
    account(app, user_id).await
}

/// `POST /admin/revoke-user-sessions`: a `SessionsRevoked` by the admin.
pub async fn revoke_sessions(
    app: &Context,
    admin: &Account,
    user_id: &str,
) -> Result<(), ServiceError> {
    must_be_admin(
        app,
        admin,
        "YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS",
        "You are not allowed to revoke users sessions",
    )?;
    account(app, user_id).await?;
    passwords::end_sessions(app, user_id, &admin.id, None).await
}

/// `POST /admin/remove-user`: the person is erased, as the audit API's erasure does.
pub async fn remove(app: &Context, admin: &Account, user_id: &str) -> Result<(), ServiceError> {
    must_be_admin(
        app,
        admin,
        "YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS",
        "You are not allowed to delete users",
    )?;
    not_yourself(
        admin,
        user_id,
        "YOU_CANNOT_REMOVE_YOURSELF",
        "You cannot remove yourself",
    )?;
    account(app, user_id).await?;
    erasure::erase(app, &admin.id, user_id).await?;
    Ok(())
}

async fn account(app: &Context, user_id: &str) -> Result<Account, ServiceError> {
    accounts::by_id(&app.pool, user_id)
        .await?
        .ok_or(ServiceError::User(UserError::NotFound))
}
