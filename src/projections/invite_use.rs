use async_trait::async_trait;
use sqlx::PgConnection;

use super::bulk::invite_use::InviteUseRow;
use super::Projection;
use crate::ledger::RecordedEvent;

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
        let Some(row) = InviteUseRow::from_event(recorded) else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO invite_use (position, invite_id, inviter_id, user_id, user_email,
                role_before, role_granted, new_account, used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(row.position)
        .bind(row.invite_id)
        .bind(row.inviter_id)
        .bind(row.user_id)
        .bind(row.user_email)
        .bind(row.role_before)
        .bind(row.role_granted)
        .bind(row.new_account)
        .bind(row.used_at)
        .execute(conn)
        .await
        .map(drop)
    }
}
