//! People the ledger knows by their Better Auth user ids. The acting user
//! comes with each call; the first time the ledger hears of an id it records
//! the person (`Introduced`: email and name sealed, no password). From then on
//! the ledger's own record decides their role; their email is Better Auth's.

use serde::Deserialize;

use super::Caller;
use crate::auth::accounts::{self, Account};
use crate::context::Context;
use crate::domain::email::Email;
use crate::domain::user::UserCommand;
use crate::error::ServiceError;
use crate::ledger::Guard;

const MAX_ID_LENGTH: usize = 255;
const MAX_NAME_LENGTH: usize = 200;

/// A Better Auth user, as the plugin names them.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompanionUser {
    /// Better Auth's user id: the ledger keys the person by it.
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Better Auth's `role` field (of several, comma-separated, the highest the
    /// ledger knows); the ledger's default role when absent. Used
    /// only the first time the ledger hears of the user: after that the ledger's
    /// own record decides.
    #[serde(default)]
    pub role: Option<String>,
}

/// A checked Better Auth user: id, normalized email, name and role.
#[derive(Debug, Clone)]
pub struct Checked {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
}

impl CompanionUser {
    pub fn checked(&self, app: &Context) -> Result<Checked, ServiceError> {
        let id = self.id.trim();
        if id.is_empty() || id.len() > MAX_ID_LENGTH || id.chars().any(char::is_control) {
            return Err(ServiceError::bad_request(
                "INVALID_USER_ID",
                format!("A user id is 1 to {MAX_ID_LENGTH} characters"),
            ));
        }
        let email = Email::parse(&self.email)?.into_string();
        let name: String = self
            .name
            .as_deref()
            .unwrap_or_default()
            .trim()
            .chars()
            .take(MAX_NAME_LENGTH)
            .collect();
        let roles = &app.settings.roles;
        let role = match self.role.as_deref().map(str::trim) {
            // Better Auth's admin plugin writes several roles comma-separated:
            // the highest the ledger knows counts.
            Some(listed) if listed.contains(',') => listed
                .split(',')
                .map(str::trim)
                .filter(|r| roles.is_configured(r))
                .max_by_key(|r| roles.rank(r))
                .unwrap_or(listed)
                .to_string(),
            Some(role) if !role.is_empty() => role.to_string(),
            _ => roles.default_role().to_string(),
        };
        Ok(Checked {
            id: id.to_string(),
            email,
            name,
            role,
        })
    }
}

/// Notes that roles decided for `user_id` go to this key's plugin.
pub async fn route_roles(app: &Context, caller: Caller, user_id: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO companion_person (user_id, api_key_id) VALUES ($1, $2)
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(caller.key_id)
    .execute(&app.pool)
    .await?;
    Ok(())
}

/// The acting user as the ledger knows them, recorded first if new. The
/// account's email is the one Better Auth gives now.
pub async fn person(
    app: &Context,
    caller: Caller,
    user: &CompanionUser,
) -> Result<Account, ServiceError> {
    let user = user.checked(app)?;
    if let Some(mut account) = accounts::by_id(&app.pool, &user.id).await? {
        account.email = user.email;
        return Ok(account);
    }
    route_roles(app, caller, &user.id).await?;
    let command = UserCommand::Introduce {
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role.clone(),
        at: app.clock.now(),
    };
    let position = app
        .ledger
        .execute(&user.id, command, &Guard::default())
        .await?;
    app.written(position);
    let now = app.clock.now();
    Ok(match accounts::by_id(&app.pool, &user.id).await? {
        Some(mut account) => {
            account.email = user.email;
            account
        }
        // Introduced by a twin request whose event the read model has not
        // shown yet: the person is as Better Auth tells.
        None => Account {
            id: user.id,
            email: user.email,
            name: user.name,
            image: None,
            email_verified: false,
            role: user.role,
            invited_by: None,
            banned: false,
            ban_reason: None,
            ban_expires: None,
            own_account: false,
            created_at: now,
            updated_at: now,
        },
    })
}
