//! The `user_account` rows, folded in memory.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{BulkFold, CopyRows};
use crate::domain::invite::InviteEvent;
use crate::domain::user::UserEvent;
use crate::ledger::{LedgerEvent, RecordedEvent};

/// One row of `user_account` (projections/user_account.sql).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UserAccountRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub invited_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every account, keyed by user id.
#[derive(Default)]
pub struct UserAccountFold {
    rows: HashMap<String, UserAccountRow>,
}

impl UserAccountFold {
    pub fn get(&self, id: &str) -> Option<&UserAccountRow> {
        self.rows.get(id)
    }

    pub fn rows(&self) -> impl Iterator<Item = &UserAccountRow> {
        self.rows.values()
    }
}

#[async_trait]
impl BulkFold for UserAccountFold {
    fn fold(&mut self, recorded: &RecordedEvent) {
        match &recorded.event {
            LedgerEvent::User(UserEvent::Registered {
                email,
                name,
                password_hash,
                role,
                at,
            }) => {
                self.rows.insert(
                    recorded.aggregate_id.clone(),
                    UserAccountRow {
                        id: recorded.aggregate_id.clone(),
                        email: email.clone(),
                        name: name.clone(),
                        password_hash: password_hash.clone(),
                        role: role.clone(),
                        invited_by: None,
                        created_at: *at,
                        updated_at: *at,
                    },
                );
            }
            LedgerEvent::User(UserEvent::RoleSet { role, at, .. }) => {
                if let Some(row) = self.rows.get_mut(&recorded.aggregate_id) {
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
                if let Some(row) = self.rows.get_mut(user_id) {
                    row.role = role_after.clone();
                    row.updated_at = *at;
                    if *new_account {
                        row.invited_by = Some(inviter_id.clone());
                    }
                }
            }
            LedgerEvent::Invite(_) => {}
        }
    }

    async fn write(&mut self, conn: &mut PgConnection) -> sqlx::Result<u64> {
        let mut copy = CopyRows::new(conn, "user_account", COLUMNS);
        for r in std::mem::take(&mut self.rows).into_values() {
            copy.row(&[
                &r.id,
                &r.email,
                &r.name,
                &r.password_hash,
                &r.role,
                &r.invited_by,
                &r.created_at,
                &r.updated_at,
            ])
            .await?;
        }
        copy.finish().await
    }
}

/// The table's columns, in the order `write` sends them.
const COLUMNS: &str = "id, email, name, password_hash, role, invited_by, created_at, updated_at";
