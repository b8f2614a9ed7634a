//! The `user_account` rows, folded in memory.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{column, BulkFold, CHUNK};
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
        let rows: Vec<UserAccountRow> = std::mem::take(&mut self.rows).into_values().collect();
        for chunk in rows.chunks(CHUNK) {
            sqlx::query(
                "INSERT INTO user_account (id, email, name, password_hash, role, invited_by,
                    created_at, updated_at)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[],
                    $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])",
            )
            .bind(column(chunk, |r| r.id.clone()))
            .bind(column(chunk, |r| r.email.clone()))
            .bind(column(chunk, |r| r.name.clone()))
            .bind(column(chunk, |r| r.password_hash.clone()))
            .bind(column(chunk, |r| r.role.clone()))
            .bind(column(chunk, |r| r.invited_by.clone()))
            .bind(column(chunk, |r| r.created_at))
            .bind(column(chunk, |r| r.updated_at))
            .execute(&mut *conn)
            .await?;
        }
        Ok(rows.len() as u64)
    }
}
