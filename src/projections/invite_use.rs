use async_trait::async_trait;
use sqlx::PgConnection;

use super::Projection;
use crate::domain::invite::InviteEvent;
use crate::ledger::{LedgerEvent, RecordedEvent};

pub struct InviteUseTrail;

#[async_trait]
impl Projection for InviteUseTrail {
    fn name(&self) -> &'static str {
        "invite_use"
    }

    fn schema(&self) -> &'static str {
        include_str!("../../projections/invite_use.sql")
    }

    fn tables(&self) -> &'static [&'static str] {
        &["invite_use"]
    }

    fn bulk_fold(&self) -> Option<Box<dyn super::bulk::BulkFold>> {
        Some(Box::<super::bulk::invite_use::InviteUseFold>::default())
    }

    async fn apply(&self, conn: &mut PgConnection, recorded: &RecordedEvent) -> sqlx::Result<()> {
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
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO invite_use (position, invite_id, inviter_id, user_id, user_email,
                role_before, role_granted, new_account, used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(recorded.position.global)
        .bind(invite_id)
        .bind(inviter_id)
        .bind(user_id)
        .bind(user_email)
        .bind(role_before)
        .bind(role_after)
        .bind(new_account)
        .bind(at)
        .execute(conn)
        .await
        .map(drop)
    }
}
