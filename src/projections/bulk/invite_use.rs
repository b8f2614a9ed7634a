//! The `invite_use` trail's rows, folded in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{column, BulkFold, CHUNK};
use crate::domain::invite::InviteEvent;
use crate::ledger::{LedgerEvent, RecordedEvent};

/// One use of an invite (projections/invite_use.sql).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteUseRow {
    /// The global position of the `Used` event.
    pub position: i64,
    pub invite_id: Uuid,
    pub inviter_id: String,
    pub user_id: String,
    pub user_email: String,
    pub role_before: String,
    pub role_granted: String,
    pub new_account: bool,
    pub used_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct InviteUseFold {
    rows: Vec<InviteUseRow>,
}

#[async_trait]
impl BulkFold for InviteUseFold {
    fn fold(&mut self, recorded: &RecordedEvent) {
        let LedgerEvent::Invite(InviteEvent::Used {
            invite_id,
            inviter_id,
            user_id,
            user_email,
            role_before,
            role_after,
            new_account,
            at,
        }) = &recorded.event
        else {
            return;
        };
        self.rows.push(InviteUseRow {
            position: recorded.position.global,
            invite_id: *invite_id,
            inviter_id: inviter_id.clone(),
            user_id: user_id.clone(),
            user_email: user_email.clone(),
            role_before: role_before.clone(),
            role_granted: role_after.clone(),
            new_account: *new_account,
            used_at: *at,
        });
    }

    async fn write(&mut self, conn: &mut PgConnection) -> sqlx::Result<u64> {
        let rows = std::mem::take(&mut self.rows);
        for chunk in rows.chunks(CHUNK) {
            sqlx::query(
                "INSERT INTO invite_use (position, invite_id, inviter_id, user_id, user_email,
                    role_before, role_granted, new_account, used_at)
                 SELECT * FROM UNNEST($1::int8[], $2::uuid[], $3::text[], $4::text[],
                    $5::text[], $6::text[], $7::text[], $8::bool[], $9::timestamptz[])",
            )
            .bind(column(chunk, |r| r.position))
            .bind(column(chunk, |r| r.invite_id))
            .bind(column(chunk, |r| r.inviter_id.clone()))
            .bind(column(chunk, |r| r.user_id.clone()))
            .bind(column(chunk, |r| r.user_email.clone()))
            .bind(column(chunk, |r| r.role_before.clone()))
            .bind(column(chunk, |r| r.role_granted.clone()))
            .bind(column(chunk, |r| r.new_account))
            .bind(column(chunk, |r| r.used_at))
            .execute(&mut *conn)
            .await?;
        }
        Ok(rows.len() as u64)
    }
}
