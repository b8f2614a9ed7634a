//! `user_account`: accounts and their current roles. A role is whatever the
//! ledger says last: the role at registration, an admin's `RoleSet`, or an
//! invite's `Used`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::model::{Key, Personal, ReadModel, Rows};
use crate::domain::invite::InviteEvent;
use crate::domain::user::UserEvent;
use crate::ledger::{LedgerEvent, RecordedEvent};
use crate::read_model_row;

read_model_row! {
    /// One account (projections/user_account.sql).
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct UserAccount in "user_account" keyed by id: String {
        pub id: String,
        pub email: String,
        pub name: String,
        pub image: Option<String>,
        /// The address was proven by a link sent to it (Better Auth's `emailVerified`).
        pub email_verified: bool,
        pub role: String,
        /// Who invited this account into existence, when it signed up with an invite.
        pub invited_by: Option<String>,
        /// Banned by an admin (the admin plugin's `banned`, `banReason`, `banExpires`).
        pub banned: bool,
        pub ban_reason: Option<String>,
        #[serde(serialize_with = "crate::json_time::option::serialize")]
        pub ban_expires: Option<DateTime<Utc>>,
        /// Signed up here (a `Registered`), not a Better Auth user (`Introduced`).
        #[serde(skip)]
        pub own_account: bool,
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub created_at: DateTime<Utc>,
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub updated_at: DateTime<Utc>,
    }
}

pub struct UserAccounts;

impl ReadModel for UserAccounts {
    type Row = UserAccount;
    const NAME: &'static str = "user_account";
    const SCHEMA: &'static str = include_str!("../../projections/user_account.sql");
    const PERSONAL: &'static [Personal] = &[Personal {
        owner: "id",
        columns: &["email", "name", "image"],
    }];

    fn keys(recorded: &RecordedEvent) -> Vec<Key<Self>> {
        match &recorded.event {
            LedgerEvent::User(UserEvent::Registered { .. } | UserEvent::Introduced { .. }) => {
                vec![]
            }
            LedgerEvent::User(_) => vec![recorded.aggregate_id.clone()],
            LedgerEvent::Invite(InviteEvent::Used { user_id, .. }) => vec![user_id.clone()],
            LedgerEvent::Invite(_) | LedgerEvent::Organization(_) => vec![],
        }
    }

    fn evolve(rows: &mut Rows<UserAccount>, recorded: &RecordedEvent) {
        match &recorded.event {
            LedgerEvent::User(UserEvent::Registered {
                email,
                name,
                role,
                email_verified,
                at,
            }) => rows.insert(UserAccount {
                id: recorded.aggregate_id.clone(),
                email: email.clone(),
                name: name.clone(),
                image: None,
                email_verified: *email_verified,
                role: role.clone(),
                invited_by: None,
                banned: false,
                ban_reason: None,
                ban_expires: None,
                own_account: true,
                created_at: *at,
                updated_at: *at,
            }),
            // A Better Auth user: no password here (none in the `password` table).
            LedgerEvent::User(UserEvent::Introduced {
                email,
                name,
                role,
                at,
            }) => rows.insert(UserAccount {
                id: recorded.aggregate_id.clone(),
                email: email.clone(),
                name: name.clone(),
                image: None,
                email_verified: false,
                role: role.clone(),
                invited_by: None,
                banned: false,
                ban_reason: None,
                ban_expires: None,
                own_account: false,
                created_at: *at,
                updated_at: *at,
            }),
            LedgerEvent::User(UserEvent::RoleSet { role, at, .. }) => {
                if let Some(row) = rows.get_mut(&recorded.aggregate_id) {
                    row.role = role.clone();
                    row.updated_at = *at;
                }
            }
            LedgerEvent::Invite(InviteEvent::Used {
                user_id,
                inviter_id,
                role_after,
                new_account,
                at,
                ..
            }) => {
                if let Some(row) = rows.get_mut(user_id) {
                    row.role = role_after.clone();
                    row.updated_at = *at;
                    if *new_account {
                        row.invited_by = Some(inviter_id.clone());
                    }
                }
            }
            // The driver scrubs the erased person's rows (`ReadModel::PERSONAL`).
            LedgerEvent::User(UserEvent::ProfileUpdated { name, image, at }) => {
                if let Some(row) = rows.get_mut(&recorded.aggregate_id) {
                    row.name = name.clone();
                    row.image = image.clone();
                    row.updated_at = *at;
                }
            }
            LedgerEvent::User(UserEvent::Banned {
                reason,
                expires_at,
                at,
                ..
            }) => {
                if let Some(row) = rows.get_mut(&recorded.aggregate_id) {
                    row.banned = true;
                    row.ban_reason = Some(reason.clone());
                    row.ban_expires = *expires_at;
                    row.updated_at = *at;
                }
            }
            LedgerEvent::User(UserEvent::Unbanned { at, .. }) => {
                if let Some(row) = rows.get_mut(&recorded.aggregate_id) {
                    row.banned = false;
                    row.ban_reason = None;
                    row.ban_expires = None;
                    row.updated_at = *at;
                }
            }
            LedgerEvent::User(UserEvent::EmailVerified { at, .. }) => {
                if let Some(row) = rows.get_mut(&recorded.aggregate_id) {
                    row.email_verified = true;
                    row.updated_at = *at;
                }
            }
            // As Better Auth: the new address was proven, and `emailVerified`
            // stays what it was.
            LedgerEvent::User(UserEvent::EmailChanged { email, at, .. }) => {
                if let Some(row) = rows.get_mut(&recorded.aggregate_id) {
                    row.email = email.clone();
                    row.updated_at = *at;
                }
            }
            LedgerEvent::User(UserEvent::PasswordSet { at, .. }) => {
                if let Some(row) = rows.get_mut(&recorded.aggregate_id) {
                    row.updated_at = *at;
                }
            }
            LedgerEvent::User(
                UserEvent::Erased { .. }
                | UserEvent::PasswordResetRequested { .. }
                | UserEvent::VerificationEmailRequested { .. }
                | UserEvent::SessionsRevoked { .. },
            )
            | LedgerEvent::Invite(_)
            | LedgerEvent::Organization(_) => {}
        }
    }
}
