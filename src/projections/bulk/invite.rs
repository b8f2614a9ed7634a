//! The `invite` view's rows, folded in memory.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{BulkFold, CopyRows};
use crate::domain::invite::InviteEvent;
use crate::ledger::{LedgerEvent, RecordedEvent};

/// One row of the `invite` view (projections/invite.sql), as the audit API shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteRow {
    pub id: Uuid,
    /// Never shown: a short code's hash is easily reversed.
    #[serde(skip)]
    pub token_hash: String,
    pub token_type: String,
    pub role: String,
    pub email: Option<String>,
    pub new_account: bool,
    pub inviter_id: String,
    pub inviter_name: String,
    pub inviter_email: String,
    pub max_uses: i32,
    pub uses: i32,
    pub activations: i32,
    /// pending | used_up | cancelled | rejected | expired
    pub status: String,
    pub share_inviter_name: bool,
    pub redirect_to_sign_up: String,
    pub redirect_to_sign_in: String,
    pub redirect_to_after_upgrade: String,
    pub sender_response_redirect: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// The global position of the last event that changed this invite.
    pub last_position: i64,
}

/// Every invite, keyed by token hash (the aggregate id).
#[derive(Default)]
pub struct InviteFold {
    rows: HashMap<String, InviteRow>,
}

impl InviteFold {
    pub fn into_rows(self) -> impl Iterator<Item = InviteRow> {
        self.rows.into_values()
    }
}

#[async_trait]
impl BulkFold for InviteFold {
    fn fold(&mut self, recorded: &RecordedEvent) {
        let LedgerEvent::Invite(event) = &recorded.event else {
            return;
        };
        let hash = &recorded.aggregate_id;
        let position = recorded.position.global;
        if let InviteEvent::Created {
            terms,
            inviter_id,
            inviter_name,
            inviter_email,
            at,
            ..
        } = event
        {
            self.rows.insert(
                hash.clone(),
                InviteRow {
                    id: terms.invite_id,
                    token_hash: hash.clone(),
                    token_type: terms.token_type.as_str().to_string(),
                    role: terms.role.clone(),
                    email: terms.email.clone(),
                    new_account: terms.new_account,
                    inviter_id: inviter_id.clone(),
                    inviter_name: inviter_name.clone(),
                    inviter_email: inviter_email.clone(),
                    max_uses: terms.max_uses as i32,
                    uses: 0,
                    activations: 0,
                    status: "pending".into(),
                    share_inviter_name: terms.share_inviter_name,
                    redirect_to_sign_up: terms.redirect_to_sign_up.clone(),
                    redirect_to_sign_in: terms.redirect_to_sign_in.clone(),
                    redirect_to_after_upgrade: terms.redirect_to_after_upgrade.clone(),
                    sender_response_redirect: terms.sender_response_redirect.clone(),
                    created_at: *at,
                    expires_at: terms.expires_at,
                    last_used_at: None,
                    closed_at: None,
                    closed_by: None,
                    updated_at: *at,
                    last_position: position,
                },
            );
            return;
        }
        // As the view's UPDATEs: an event for an unknown invite changes nothing.
        let Some(row) = self.rows.get_mut(hash) else {
            return;
        };
        // A resend changes nothing an invite shows.
        if let InviteEvent::Resent { .. } = event {
            return;
        }
        row.last_position = position;
        match event {
            InviteEvent::Created { .. } | InviteEvent::Resent { .. } => {
                unreachable!("handled above")
            }
            InviteEvent::Activated { at, .. } => {
                row.activations += 1;
                row.updated_at = *at;
            }
            InviteEvent::Used { at, .. } => {
                if row.uses + 1 >= row.max_uses {
                    row.status = "used_up".into();
                }
                row.uses += 1;
                row.last_used_at = Some(*at);
                row.updated_at = *at;
            }
            InviteEvent::Cancelled { by_user_id, at } => {
                close(row, "cancelled", Some(by_user_id), at)
            }
            InviteEvent::Rejected { by_user_id, at } => {
                close(row, "rejected", Some(by_user_id), at)
            }
            InviteEvent::Expired { at } => close(row, "expired", None, at),
        }
    }

    async fn write(&mut self, conn: &mut PgConnection) -> sqlx::Result<u64> {
        let mut copy = CopyRows::new(conn, "invite", COLUMNS);
        for r in std::mem::take(&mut self.rows).into_values() {
            copy.row(&[
                &r.id,
                &r.token_hash,
                &r.token_type,
                &r.role,
                &r.email,
                &r.new_account,
                &r.inviter_id,
                &r.inviter_name,
                &r.inviter_email,
                &r.max_uses,
                &r.uses,
                &r.activations,
                &r.status,
                &r.share_inviter_name,
                &r.redirect_to_sign_up,
                &r.redirect_to_sign_in,
                &r.redirect_to_after_upgrade,
                &r.sender_response_redirect,
                &r.created_at,
                &r.expires_at,
                &r.last_used_at,
                &r.closed_at,
                &r.closed_by,
                &r.updated_at,
                &r.last_position,
            ])
            .await?;
        }
        copy.finish().await
    }
}

/// The view's columns, in the order `write` sends them.
pub const COLUMNS: &str = "id, token_hash, token_type, role, email, new_account, inviter_id,
    inviter_name, inviter_email, max_uses, uses, activations, status, share_inviter_name,
    redirect_to_sign_up, redirect_to_sign_in, redirect_to_after_upgrade,
    sender_response_redirect, created_at, expires_at, last_used_at, closed_at, closed_by,
    updated_at, last_position";

fn close(row: &mut InviteRow, status: &str, by: Option<&String>, at: &DateTime<Utc>) {
    row.status = status.into();
    row.closed_by = by.cloned();
    row.closed_at = Some(*at);
    row.updated_at = *at;
}
