//! The `invite_use` trail's rows, folded in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{BulkFold, CopyRows};
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

impl InviteUseRow {
    /// The row a `Used` event adds; `None` for every other event.
    pub fn from_event(recorded: &RecordedEvent) -> Option<InviteUseRow> {
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
            return None;
        };
        Some(InviteUseRow {
            position: recorded.position.global,
            invite_id: *invite_id,
            inviter_id: inviter_id.clone(),
            user_id: user_id.clone(),
            user_email: user_email.clone(),
            role_before: role_before.clone(),
            role_granted: role_after.clone(),
            new_account: *new_account,
            used_at: *at,
        })
    }
}

#[derive(Default)]
pub struct InviteUseFold {
    rows: Vec<InviteUseRow>,
}

#[async_trait]
impl BulkFold for InviteUseFold {
    fn fold(&mut self, recorded: &RecordedEvent) {
        self.rows.extend(InviteUseRow::from_event(recorded));
    }

    async fn write(&mut self, conn: &mut PgConnection) -> sqlx::Result<u64> {
        let mut copy = CopyRows::new(conn, "invite_use", COLUMNS);
        for r in std::mem::take(&mut self.rows) {
            copy.row(&[
                &r.position,
                &r.invite_id,
                &r.inviter_id,
                &r.user_id,
                &r.user_email,
                &r.role_before,
                &r.role_granted,
                &r.new_account,
                &r.used_at,
            ])
            .await?;
        }
        copy.finish().await
    }
}

/// The trail's columns, in the order `write` sends them.
pub const COLUMNS: &str = "position, invite_id, inviter_id, user_id, user_email, role_before,
    role_granted, new_account, used_at";
