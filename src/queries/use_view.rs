//! One use of an invite as `/api/ledger/uses` shows it. The role the use left
//! the account with is `roleAfter`, as in `/diff` and the `Used` event;
//! `roleGranted`, its earlier name, is kept beside it for one release.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::projections::invite_use::InviteUseRow;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UseView {
    /// The global position of the `Used` event.
    pub global_position: i64,
    pub invite_id: Uuid,
    pub inviter_id: String,
    pub user_id: String,
    pub user_email: String,
    /// The account's role before the use.
    pub role_before: String,
    /// The account's role after the use (the role the invite gave).
    pub role_after: String,
    /// Deprecated: `roleAfter` under its earlier name; removed in the next release.
    #[schema(deprecated)]
    pub role_granted: String,
    pub new_account: bool,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub used_at: DateTime<Utc>,
    /// When the ledger recorded the use: `as_of` compares with this.
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
}

/// The export's columns, in this order.
pub const COLUMNS: &[&str] = &[
    "globalPosition",
    "inviteId",
    "inviterId",
    "userId",
    "userEmail",
    "roleBefore",
    "roleAfter",
    "roleGranted",
    "newAccount",
    "usedAt",
    "recordedAt",
];

impl From<InviteUseRow> for UseView {
    fn from(row: InviteUseRow) -> UseView {
        UseView {
            global_position: row.position,
            invite_id: row.invite_id,
            inviter_id: row.inviter_id,
            user_id: row.user_id,
            user_email: row.user_email,
            role_before: row.role_before,
            role_after: row.role_granted.clone(),
            role_granted: row.role_granted,
            new_account: row.new_account,
            used_at: row.used_at,
            recorded_at: row.recorded_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_lists_every_field_once() {
        let mut listed: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
        let mut fields = crate::queries::export::columns::<UseView>(COLUMNS);
        assert_eq!(fields, listed, "the export's order is the listed one");
        listed.sort();
        fields.sort();
        assert_eq!(fields, listed);
    }
}
