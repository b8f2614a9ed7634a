use async_trait::async_trait;
use sqlx::PgConnection;

use super::Projection;
use crate::domain::invite::InviteEvent;
use crate::ledger::{LedgerEvent, RecordedEvent};

pub struct InviteView;

#[async_trait]
impl Projection for InviteView {
    fn name(&self) -> &'static str {
        "invite"
    }

    fn schema(&self) -> &'static str {
        include_str!("../../projections/invite.sql")
    }

    fn tables(&self) -> &'static [&'static str] {
        &["invite"]
    }

    fn bulk_fold(&self) -> Option<Box<dyn super::bulk::BulkFold>> {
        Some(Box::<super::bulk::invite::InviteFold>::default())
    }

    async fn apply(&self, conn: &mut PgConnection, recorded: &RecordedEvent) -> sqlx::Result<()> {
        let LedgerEvent::Invite(event) = &recorded.event else {
            return Ok(());
        };
        let hash = &recorded.aggregate_id;
        let position = recorded.position.global;
        let query = match event {
            InviteEvent::Created {
                terms,
                inviter_id,
                inviter_name,
                inviter_email,
                at,
                ..
            } => {
                return sqlx::query(
                    "INSERT INTO invite (id, token_hash, token_type, role, email, new_account,
                        inviter_id, inviter_name, inviter_email, max_uses, uses, activations,
                        status, share_inviter_name, redirect_to_sign_up, redirect_to_sign_in,
                        redirect_to_after_upgrade, sender_response_redirect, created_at,
                        expires_at, updated_at, last_position)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, 'pending', $11, $12,
                        $13, $14, $15, $16, $17, $16, $18)",
                )
                .bind(terms.invite_id)
                .bind(hash)
                .bind(terms.token_type.as_str())
                .bind(&terms.role)
                .bind(&terms.email)
                .bind(terms.new_account)
                .bind(inviter_id)
                .bind(inviter_name)
                .bind(inviter_email)
                .bind(terms.max_uses as i32)
                .bind(terms.share_inviter_name)
                .bind(&terms.redirect_to_sign_up)
                .bind(&terms.redirect_to_sign_in)
                .bind(&terms.redirect_to_after_upgrade)
                .bind(&terms.sender_response_redirect)
                .bind(at)
                .bind(terms.expires_at)
                .bind(position)
                .execute(conn)
                .await
                .map(drop);
            }
            InviteEvent::Activated { at, .. } => sqlx::query(
                "UPDATE invite SET activations = activations + 1, updated_at = $2,
                        last_position = $3
                  WHERE token_hash = $1",
            )
            .bind(hash)
            .bind(at),
            InviteEvent::Used { at, .. } => sqlx::query(
                "UPDATE invite SET uses = uses + 1, last_used_at = $2, updated_at = $2,
                        last_position = $3,
                        status = CASE WHEN uses + 1 >= max_uses THEN 'used_up' ELSE status END
                  WHERE token_hash = $1",
            )
            .bind(hash)
            .bind(at),
            InviteEvent::Cancelled { by_user_id, at } => {
                close(hash, "cancelled", Some(by_user_id), at)
            }
            InviteEvent::Rejected { by_user_id, at } => {
                close(hash, "rejected", Some(by_user_id), at)
            }
            InviteEvent::Expired { at } => close(hash, "expired", None, at),
            // A resend changes nothing an invite shows.
            InviteEvent::Resent { .. } => return Ok(()),
        };
        query.bind(position).execute(conn).await.map(drop)
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

fn close<'q>(
    hash: &'q str,
    status: &'static str,
    by: Option<&'q String>,
    at: &'q chrono::DateTime<chrono::Utc>,
) -> PgQuery<'q> {
    sqlx::query(
        "UPDATE invite SET status = $2, closed_by = $3, closed_at = $4, updated_at = $4,
                last_position = $5
          WHERE token_hash = $1",
    )
    .bind(hash)
    .bind(status)
    .bind(by)
    .bind(at)
}
