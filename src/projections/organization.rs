//! Organizations as Better Auth's organization plugin shaped them: each
//! invitation and what became of it (`organization_invitation`), and each
//! membership from its start to its end (`organization_member`). Both are
//! system-versioned like every read model, so who was a member on a date is
//! an index lookup.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::model::{Key, Personal, ReadModel, Rows};
use crate::domain::organization::{InvitationStatus, OrganizationEvent};
use crate::domain::{normalize_email, user::user_id_for_email};
use crate::ledger::{LedgerEvent, RecordedEvent};
use crate::read_model_row;

read_model_row! {
    /// One organization invitation (projections/organization_invitation.sql).
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct OrganizationInvitationRow in "organization_invitation" keyed by id: String {
        /// Better Auth's invitation id.
        pub id: String,
        pub organization_id: String,
        pub email: String,
        #[serde(skip)]
        pub invitee_id: String,
        pub role: String,
        pub team_id: Option<String>,
        pub inviter_id: String,
        /// `pending`, `accepted`, `rejected`, `canceled` (Better Auth's words) or
        /// `expired` (pending past `expiresAt` at the moment asked).
        pub status: String,
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub expires_at: DateTime<Utc>,
        /// Times it was sent again.
        pub resent: i32,
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub created_at: DateTime<Utc>,
        pub closed_by: Option<String>,
        #[serde(serialize_with = "crate::json_time::option::serialize")]
        pub closed_at: Option<DateTime<Utc>>,
        /// `closedAt` is when a reconciliation found the status in Better
        /// Auth's tables, which keep no time for it: it was closed before.
        pub closed_observed: bool,
        /// The membership its acceptance began.
        pub member_id: Option<String>,
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub updated_at: DateTime<Utc>,
        /// When the ledger recorded the invitation: `as_of` compares with this.
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub recorded_at: DateTime<Utc>,
        #[serde(skip)]
        pub last_position: i64,
    }
}

impl OrganizationInvitationRow {
    /// A pending invitation past its expiry reads as expired at `moment`.
    pub fn as_at(&mut self, moment: DateTime<Utc>) {
        if self.status == InvitationStatus::Pending.as_str() && self.expires_at <= moment {
            self.status = InvitationStatus::Expired.as_str().to_string();
        }
    }
}

read_model_row! {
    /// One membership (projections/organization_member.sql).
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct OrganizationMemberRow in "organization_member" keyed by id: String {
        /// Better Auth's member id.
        pub id: String,
        pub organization_id: String,
        pub user_id: String,
        pub role: String,
        /// The role was found by a reconciliation (`updatedAt` is then when;
        /// it held from before).
        pub role_observed: bool,
        /// `member`, `removed` or `left`.
        pub status: String,
        /// The invitation accepted, when that is how the membership began.
        pub invitation_id: Option<String>,
        pub added_by: Option<String>,
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub added_at: DateTime<Utc>,
        pub ended_by: Option<String>,
        #[serde(serialize_with = "crate::json_time::option::serialize")]
        pub ended_at: Option<DateTime<Utc>>,
        /// `endedAt` is when a reconciliation found the member gone from
        /// Better Auth's tables: it ended before (removed or left, unknown).
        pub ended_observed: bool,
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub updated_at: DateTime<Utc>,
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub recorded_at: DateTime<Utc>,
        #[serde(skip)]
        pub last_position: i64,
    }
}

pub const MEMBER: &str = "member";
pub const REMOVED: &str = "removed";
pub const LEFT: &str = "left";

fn organization_event(recorded: &RecordedEvent) -> Option<&OrganizationEvent> {
    match &recorded.event {
        LedgerEvent::Organization(event) => Some(event),
        _ => None,
    }
}

pub struct OrganizationInvitations;

impl ReadModel for OrganizationInvitations {
    type Row = OrganizationInvitationRow;
    const NAME: &'static str = "organization_invitation";
    const SCHEMA: &'static str = include_str!("../../projections/organization_invitation.sql");
    const PERSONAL: &'static [Personal] = &[Personal {
        owner: "invitee_id",
        columns: &["email"],
    }];

    fn keys(recorded: &RecordedEvent) -> Vec<Key<Self>> {
        match organization_event(recorded) {
            Some(event) => event
                .invitation_id()
                .map(str::to_string)
                .into_iter()
                .collect(),
            None => vec![],
        }
    }

    fn evolve(rows: &mut Rows<OrganizationInvitationRow>, recorded: &RecordedEvent) {
        use OrganizationEvent::*;
        let Some(event) = organization_event(recorded) else {
            return;
        };
        let position = recorded.position.global;
        if let InvitationCreated {
            invitation_id,
            inviter_id,
            email,
            role,
            team_id,
            expires_at,
            at,
        } = event
        {
            rows.insert(OrganizationInvitationRow {
                id: invitation_id.clone(),
                organization_id: recorded.aggregate_id.clone(),
                email: email.clone(),
                invitee_id: user_id_for_email(&normalize_email(email)),
                role: role.clone(),
                team_id: team_id.clone(),
                inviter_id: inviter_id.clone(),
                status: InvitationStatus::Pending.as_str().to_string(),
                expires_at: *expires_at,
                resent: 0,
                created_at: *at,
                closed_by: None,
                closed_at: None,
                closed_observed: false,
                member_id: None,
                updated_at: *at,
                recorded_at: recorded.recorded_at,
                last_position: position,
            });
            return;
        }
        let Some(id) = event.invitation_id() else {
            return;
        };
        // An allowance shows no row; a fact about an unknown invitation changes none.
        if matches!(event, InvitationAllowed { .. }) {
            return;
        }
        let Some(row) = rows.get_mut(&id.to_string()) else {
            return;
        };
        row.last_position = position;
        row.updated_at = event.at();
        let close =
            |row: &mut OrganizationInvitationRow, status: InvitationStatus, by: &Option<String>| {
                row.status = status.as_str().to_string();
                row.closed_by = by.clone();
                row.closed_at = Some(event.at());
                row.closed_observed = event.observed();
            };
        match event {
            InvitationResent { expires_at, .. } => {
                row.resent += 1;
                row.expires_at = *expires_at;
            }
            InvitationAccepted { by_user_id, .. } => {
                close(row, InvitationStatus::Accepted, by_user_id)
            }
            InvitationRejected { by_user_id, .. } => {
                close(row, InvitationStatus::Rejected, by_user_id)
            }
            InvitationCanceled { by_user_id, .. } => {
                close(row, InvitationStatus::Canceled, by_user_id)
            }
            InvitationExpired { .. } => close(row, InvitationStatus::Expired, &None),
            MemberAdded { member_id, .. } => row.member_id = Some(member_id.clone()),
            _ => {}
        }
    }
}

pub struct OrganizationMembers;

impl ReadModel for OrganizationMembers {
    type Row = OrganizationMemberRow;
    const NAME: &'static str = "organization_member";
    const SCHEMA: &'static str = include_str!("../../projections/organization_member.sql");

    fn keys(recorded: &RecordedEvent) -> Vec<Key<Self>> {
        use OrganizationEvent::*;
        match organization_event(recorded) {
            Some(
                MemberRoleChanged { member_id, .. }
                | MemberRemoved { member_id, .. }
                | MemberLeft { member_id, .. },
            ) => vec![member_id.clone()],
            _ => vec![],
        }
    }

    fn evolve(rows: &mut Rows<OrganizationMemberRow>, recorded: &RecordedEvent) {
        use OrganizationEvent::*;
        let Some(event) = organization_event(recorded) else {
            return;
        };
        let position = recorded.position.global;
        match event {
            MemberAdded {
                member_id,
                user_id,
                role,
                invitation_id,
                by_user_id,
                at,
            } => rows.insert(OrganizationMemberRow {
                id: member_id.clone(),
                organization_id: recorded.aggregate_id.clone(),
                user_id: user_id.clone(),
                role: role.clone(),
                role_observed: false,
                status: MEMBER.to_string(),
                invitation_id: invitation_id.clone(),
                added_by: by_user_id.clone(),
                added_at: *at,
                ended_by: None,
                ended_at: None,
                ended_observed: false,
                updated_at: *at,
                recorded_at: recorded.recorded_at,
                last_position: position,
            }),
            MemberRoleChanged {
                member_id,
                role,
                at,
                observed,
                ..
            } => {
                if let Some(row) = rows.get_mut(member_id) {
                    row.role = role.clone();
                    row.role_observed = *observed;
                    row.updated_at = *at;
                    row.last_position = position;
                }
            }
            MemberRemoved {
                member_id,
                by_user_id,
                ..
            } => end(
                rows,
                member_id,
                REMOVED,
                by_user_id.clone(),
                event,
                position,
            ),
            MemberLeft {
                member_id, user_id, ..
            } => end(
                rows,
                member_id,
                LEFT,
                Some(user_id.clone()),
                event,
                position,
            ),
            _ => {}
        }
    }
}

fn end(
    rows: &mut Rows<OrganizationMemberRow>,
    member_id: &String,
    status: &str,
    by: Option<String>,
    event: &OrganizationEvent,
    position: i64,
) {
    if let Some(row) = rows.get_mut(member_id) {
        row.status = status.to_string();
        row.ended_by = by;
        row.ended_at = Some(event.at());
        row.ended_observed = event.observed();
        row.updated_at = event.at();
        row.last_position = position;
    }
}
