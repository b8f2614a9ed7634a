//! What changed in one organization between two moments, from its events
//! recorded after `from` and up to `to` (as `/diff` reads the whole ledger):
//! the invitations created and decided, the memberships begun and ended, and
//! the roles changed.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

use super::diff::{MAX_EVENTS, RECORDED_IN_RANGE};
use crate::domain::organization::{OrganizationEvent, AGGREGATE_TYPE as ORGANIZATION};
use crate::ledger::{decode_rows, LedgerEvent, RecordedEvent, RECORDED_COLUMNS};

/// The event types each list holds (and its count counts).
const CREATED: &[&str] = &["InvitationCreated"];
const DECIDED: &[&str] = &[
    "InvitationAccepted",
    "InvitationRejected",
    "InvitationCanceled",
    "InvitationExpired",
];
const BEGAN: &[&str] = &["MemberAdded"];
const ENDED: &[&str] = &["MemberRemoved", "MemberLeft"];
const ROLES: &[&str] = &["MemberRoleChanged"];

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationCreatedChange {
    pub invitation_id: String,
    /// The invited email (`[erased]` once its person is erased).
    pub email: String,
    pub role: String,
    pub inviter_id: String,
    pub team_id: Option<String>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub expires_at: DateTime<Utc>,
    /// When Better Auth created it.
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    pub position: String,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationDecision {
    Accepted,
    Rejected,
    Canceled,
    Expired,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationDecided {
    pub invitation_id: String,
    pub how: InvitationDecision,
    /// Who accepted, rejected or canceled it, when known; `null` for an expiry.
    pub by: Option<String>,
    /// When it happened (an expiry: the invitation's `expiresAt`).
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub at: DateTime<Utc>,
    /// `at` is when a reconciliation found it: it happened before.
    pub observed: bool,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    pub position: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipBegan {
    pub member_id: String,
    pub user_id: String,
    pub role: String,
    /// The invitation accepted, when that is how the member came in.
    pub invitation_id: Option<String>,
    pub by: Option<String>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    pub position: String,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MembershipEnd {
    Removed,
    Left,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipEnded {
    pub member_id: String,
    pub user_id: String,
    pub how: MembershipEnd,
    /// Who removed the member (the member, when they left), when known.
    pub by: Option<String>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub at: DateTime<Utc>,
    /// `at` is when a reconciliation found the member gone: it ended before.
    pub observed: bool,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    pub position: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberRoleChange {
    pub member_id: String,
    pub user_id: String,
    pub role: String,
    pub previous_role: String,
    pub by: Option<String>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub at: DateTime<Utc>,
    /// `at` is when a reconciliation found the role: it changed before.
    pub observed: bool,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    pub position: String,
}

/// How many of each, whether listed in full or not.
#[derive(Debug, Default, Serialize, ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationDiffCounts {
    pub invitations_created: i64,
    pub invitations_decided: i64,
    pub memberships_began: i64,
    pub memberships_ended: i64,
    pub roles_changed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationDiff {
    pub organization_id: String,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub to: DateTime<Utc>,
    pub invitations_created: Vec<InvitationCreatedChange>,
    /// Accepted, rejected, canceled or expired.
    pub invitations_decided: Vec<InvitationDecided>,
    pub memberships_began: Vec<MembershipBegan>,
    /// Removed or left.
    pub memberships_ended: Vec<MembershipEnded>,
    pub roles_changed: Vec<MemberRoleChange>,
    pub counts: OrganizationDiffCounts,
    /// `false` when more than 10,000 events changed something: the lists then
    /// hold the first ones in log order (the organization's `/events` with
    /// `as_of` has them all).
    pub complete: bool,
}

fn quoted(types: &[&str]) -> String {
    types
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The organization's events that count, recorded in `(from, to]`.
fn range() -> String {
    let counted: Vec<&str> = [CREATED, DECIDED, BEGAN, ENDED, ROLES].concat();
    format!(
        "{RECORDED_IN_RANGE} AND aggregate_type = '{ORGANIZATION}' AND aggregate_id = $3
            AND event_type IN ({})",
        quoted(&counted)
    )
}

pub async fn between(
    conn: &mut PgConnection,
    organization_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<OrganizationDiff> {
    let range = range();
    let rows = sqlx::query(&format!(
        "SELECT {RECORDED_COLUMNS} FROM events WHERE {range}
          ORDER BY transaction_id, global_position LIMIT $4"
    ))
    .bind(from)
    .bind(to)
    .bind(organization_id)
    .bind(MAX_EVENTS + 1)
    .persistent(false)
    .fetch_all(&mut *conn)
    .await?;
    let complete = rows.len() as i64 <= MAX_EVENTS;
    let counts: OrganizationDiffCounts = sqlx::query_as(&format!(
        "SELECT count(*) FILTER (WHERE event_type IN ({created})) AS invitations_created,
                count(*) FILTER (WHERE event_type IN ({decided})) AS invitations_decided,
                count(*) FILTER (WHERE event_type IN ({began})) AS memberships_began,
                count(*) FILTER (WHERE event_type IN ({ended})) AS memberships_ended,
                count(*) FILTER (WHERE event_type IN ({roles})) AS roles_changed
           FROM events WHERE {range}",
        created = quoted(CREATED),
        decided = quoted(DECIDED),
        began = quoted(BEGAN),
        ended = quoted(ENDED),
        roles = quoted(ROLES),
    ))
    .bind(from)
    .bind(to)
    .bind(organization_id)
    .persistent(false)
    .fetch_one(&mut *conn)
    .await?;
    let mut diff = OrganizationDiff {
        organization_id: organization_id.to_string(),
        from,
        to,
        invitations_created: Vec::new(),
        invitations_decided: Vec::new(),
        memberships_began: Vec::new(),
        memberships_ended: Vec::new(),
        roles_changed: Vec::new(),
        counts,
        complete,
    };
    let rows = &rows[..rows.len().min(MAX_EVENTS as usize)];
    for recorded in decode_rows(conn, rows).await? {
        add(&mut diff, recorded);
    }
    Ok(diff)
}

fn add(diff: &mut OrganizationDiff, recorded: RecordedEvent) {
    use OrganizationEvent as E;
    let LedgerEvent::Organization(event) = recorded.event else {
        return;
    };
    let (recorded_at, position) = (recorded.recorded_at, recorded.position.to_string());
    let (at, observed) = (event.at(), event.observed());
    let decided = |invitation_id: String, how, by: Option<String>| InvitationDecided {
        invitation_id,
        how,
        by,
        at,
        observed,
        recorded_at,
        position: position.clone(),
    };
    let ended = |member_id: String, user_id: String, how, by: Option<String>| MembershipEnded {
        member_id,
        user_id,
        how,
        by,
        at,
        observed,
        recorded_at,
        position: position.clone(),
    };
    use InvitationDecision as D;
    match event {
        E::InvitationCreated {
            invitation_id,
            inviter_id,
            email,
            role,
            team_id,
            expires_at,
            at,
        } => diff.invitations_created.push(InvitationCreatedChange {
            invitation_id,
            email,
            role,
            inviter_id,
            team_id,
            expires_at,
            at,
            recorded_at,
            position: position.clone(),
        }),
        E::InvitationAccepted {
            invitation_id,
            by_user_id,
            ..
        } => diff
            .invitations_decided
            .push(decided(invitation_id, D::Accepted, by_user_id)),
        E::InvitationRejected {
            invitation_id,
            by_user_id,
            ..
        } => diff
            .invitations_decided
            .push(decided(invitation_id, D::Rejected, by_user_id)),
        E::InvitationCanceled {
            invitation_id,
            by_user_id,
            ..
        } => diff
            .invitations_decided
            .push(decided(invitation_id, D::Canceled, by_user_id)),
        E::InvitationExpired { invitation_id, .. } => {
            diff.invitations_decided
                .push(decided(invitation_id, D::Expired, None))
        }
        E::MemberAdded {
            member_id,
            user_id,
            role,
            invitation_id,
            by_user_id,
            at,
        } => diff.memberships_began.push(MembershipBegan {
            member_id,
            user_id,
            role,
            invitation_id,
            by: by_user_id,
            at,
            recorded_at,
            position: position.clone(),
        }),
        E::MemberRemoved {
            member_id,
            user_id,
            by_user_id,
            ..
        } => diff.memberships_ended.push(ended(
            member_id,
            user_id,
            MembershipEnd::Removed,
            by_user_id,
        )),
        E::MemberLeft {
            member_id, user_id, ..
        } => {
            let by = Some(user_id.clone());
            diff.memberships_ended
                .push(ended(member_id, user_id, MembershipEnd::Left, by))
        }
        E::MemberRoleChanged {
            member_id,
            user_id,
            role_before,
            role,
            by_user_id,
            ..
        } => diff.roles_changed.push(MemberRoleChange {
            member_id,
            user_id,
            role,
            previous_role: role_before,
            by: by_user_id,
            at,
            observed,
            recorded_at,
            position: position.clone(),
        }),
        E::OrganizationCreated { .. }
        | E::InvitationAllowed { .. }
        | E::InvitationResent { .. } => {}
    }
}
