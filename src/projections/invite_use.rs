//! The `invite_use` audit trail: one row per use of an invite.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::{Key, Personal, ReadModel, Rows};
use crate::domain::invite::InviteEvent;
use crate::ledger::{LedgerEvent, RecordedEvent};
use crate::read_model_row;

read_model_row! {
    /// One use of an invite (projections/invite_use.sql).
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct InviteUseRow in "invite_use" keyed by position: i64 {
        /// The global position of the `Used` event (a bare number is a
        /// `globalPosition` in every answer; `position` is `transaction/position`).
        #[serde(rename = "globalPosition")]
        pub position: i64,
        pub invite_id: Uuid,
        pub inviter_id: String,
        pub user_id: String,
        pub user_email: String,
        pub role_before: String,
        pub role_granted: String,
        pub new_account: bool,
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub used_at: DateTime<Utc>,
        /// When the ledger recorded the use: `as_of` compares with this.
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub recorded_at: DateTime<Utc>,
    }
}

pub struct InviteUseTrail;

impl ReadModel for InviteUseTrail {
    type Row = InviteUseRow;
    const NAME: &'static str = "invite_use";
    const SCHEMA: &'static str = include_str!("../../projections/invite_use.sql");
    const PERSONAL: &'static [Personal] = &[Personal {
        owner: "user_id",
        columns: &["user_email"],
    }];

    /// A use only adds its own row.
    fn keys(_: &RecordedEvent) -> Vec<Key<Self>> {
        vec![]
    }

    fn evolve(rows: &mut Rows<InviteUseRow>, recorded: &RecordedEvent) {
        let LedgerEvent::Invite(InviteEvent::Used {
            invite_id,
            inviter_id,
            user_id,
            user_email,
            role_before,
            role_after,
            new_account,
            at,
            ..
        }) = &recorded.event
        else {
            return;
        };
        rows.insert(InviteUseRow {
            position: recorded.position.global,
            invite_id: *invite_id,
            inviter_id: inviter_id.clone(),
            user_id: user_id.clone(),
            user_email: user_email.clone(),
            role_before: role_before.clone(),
            role_granted: role_after.clone(),
            new_account: *new_account,
            used_at: *at,
            recorded_at: recorded.recorded_at,
        });
    }
}
