use async_trait::async_trait;
use sqlx::PgConnection;

use super::Projection;
use crate::domain::invite::InviteEvent;
use crate::domain::user::UserEvent;
use crate::ledger::{LedgerEvent, RecordedEvent};

pub struct UserAccounts;

#[async_trait]
impl Projection for UserAccounts {
    fn name(&self) -> &'static str {
        "user_account"
    }

    fn schema(&self) -> &'static str {
        include_str!("../../projections/user_account.sql")
    }

    fn tables(&self) -> &'static [&'static str] {
        &["user_account"]
    }

    fn bulk_fold(&self) -> Option<Box<dyn super::bulk::BulkFold>> {
        Some(Box::<super::bulk::user_account::UserAccountFold>::default())
    }

    async fn apply(&self, conn: &mut PgConnection, recorded: &RecordedEvent) -> sqlx::Result<()> {
        let query = match &recorded.event {
            LedgerEvent::User(UserEvent::Registered {
                email,
                name,
                password_hash,
                role,
                at,
            }) => sqlx::query(
                "INSERT INTO user_account (id, email, name, password_hash, role, created_at,
                        updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(&recorded.aggregate_id)
            .bind(email)
            .bind(name)
            .bind(password_hash)
            .bind(role)
            .bind(at),
            LedgerEvent::User(UserEvent::RoleSet { role, at, .. }) => {
                sqlx::query("UPDATE user_account SET role = $2, updated_at = $3 WHERE id = $1")
                    .bind(&recorded.aggregate_id)
                    .bind(role)
                    .bind(at)
            }
            LedgerEvent::Invite(InviteEvent::Used {
                user_id,
                inviter_id,
                role_after,
                new_account,
                at,
                ..
            }) => sqlx::query(
                "UPDATE user_account SET role = $2, updated_at = $3,
                        invited_by = CASE WHEN $4 THEN $5 ELSE invited_by END
                  WHERE id = $1",
            )
            .bind(user_id)
            .bind(role_after)
            .bind(at)
            .bind(new_account)
            .bind(inviter_id),
            LedgerEvent::Invite(_) => return Ok(()),
        };
        query.execute(conn).await.map(drop)
    }
}
