//! A Better Auth admin sets a user's role through the ledger (the plugin
//! routes the admin plugin's `set-role` here): the ledger's rule decides (only
//! admins, never above their own role), the change is a `RoleSet` event, and
//! the role reaches Better Auth like every decided role.

use serde::{Deserialize, Serialize};

use super::people::{person, route_roles, CompanionUser};
use super::Caller;
use crate::commands::accounts;
use crate::context::{recording_writes, Context};
use crate::error::ServiceError;

/// `POST /api/companion/user/set-role`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetRoleRequest {
    /// The admin acting.
    pub actor: CompanionUser,
    /// The user whose role changes, as Better Auth has them now.
    pub user: CompanionUser,
    pub role: String,
}

/// The role the ledger decided: apply it compare-and-set on `position`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleSet {
    pub user_id: String,
    pub role: String,
    /// `null` when the user had this role already (nothing recorded).
    pub position: Option<String>,
}

pub async fn set_role(
    app: &Context,
    caller: Caller,
    request: SetRoleRequest,
) -> Result<RoleSet, ServiceError> {
    let admin = person(app, caller, &request.actor).await?;
    let target = person(app, caller, &request.user).await?;
    route_roles(app, caller, &target.id).await?;
    let (changed, position) = recording_writes(accounts::set_role(
        app,
        &admin,
        &target.id,
        &request.role,
        None,
    ))
    .await;
    let changed = changed?;
    Ok(RoleSet {
        user_id: changed.id,
        role: changed.role,
        position: position.map(|p| p.to_string()),
    })
}
