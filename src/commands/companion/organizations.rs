//! Better Auth's organization plugin beside the ledger (decision 19): its
//! invitations and memberships are decided there and recorded here, each as
//! an event of the organization's aggregate with who and when; before an
//! invitation is written the plugin asks (`allow`), and the ledger's domain
//! rules and quotas answer. Better Auth's ids make every fact idempotent: the
//! aggregate writes nothing for a fact it holds already, so the hooks, the
//! after-hooks and a reconciliation may all report the same fact.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::people::{self, CompanionUser};
use super::Caller;
use crate::commands::invites::check_email_domain;
use crate::context::Context;
use crate::domain::email::Email;
use crate::domain::organization::{OrganizationCommand, OrganizationEvent};
use crate::error::ServiceError;
use crate::ledger::{Guard, Position};
use crate::projections::model::ReadModel;
use crate::projections::organization::{OrganizationInvitations, OrganizationMembers};

const MAX_ID_LENGTH: usize = 255;
const MAX_TEXT_LENGTH: usize = 200;

/// `POST /api/companion/organization/allow-invitation`: may this invitation be
/// written? Asked from `beforeCreateInvitation`, with the id Better Auth will
/// give it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowInvitation {
    pub organization_id: String,
    pub invitation_id: String,
    /// The inviter.
    pub actor: CompanionUser,
    pub email: String,
    /// The organization role(s), as Better Auth writes them (comma-separated).
    pub role: String,
}

/// The invitation may be written: it counts against the quotas from now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Allowed {
    pub allowed: bool,
    /// The allowance's log position (`null` for a repeated question).
    pub position: Option<String>,
}

/// `POST /api/companion/organization/record`: something Better Auth did.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordFact {
    pub organization_id: String,
    /// Who did it, when known (a hook that names nobody, a reconciliation).
    #[serde(default)]
    pub actor: Option<CompanionUser>,
    /// When it happened, if Better Auth's tables tell (a reconciliation);
    /// now otherwise. A time in the future is taken as now.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<DateTime<Utc>>,
    /// A reconciliation found this change in Better Auth's tables, which keep
    /// no time for it: it is recorded now, marked `observed` (it happened
    /// before). Not with `at`, nor for a creation or an addition (their time
    /// is known).
    #[serde(default)]
    pub observed: bool,
    pub fact: Fact,
}

/// `POST /api/companion/organization/state`: what the ledger holds of one
/// organization, for a reconciliation to compare with Better Auth's tables.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateRequest {
    pub organization_id: String,
}

/// The ledger's view of one organization, from its events (never behind).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationState {
    pub organization_id: String,
    /// Its creation is recorded.
    pub created: bool,
    /// Every invitation the ledger has heard of, by id.
    pub invitations: Vec<InvitationState>,
    /// Every membership the ledger has heard of (ended ones too), by id.
    pub members: Vec<MemberState>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationState {
    pub id: String,
    /// Its creation is recorded (a later fact may have come first).
    pub created: bool,
    /// `pending`, `accepted`, `rejected`, `canceled` or `expired`; `null` when
    /// only allowed, or heard of by no status fact.
    pub status: Option<String>,
    /// As last recorded (created or resent).
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(serialize_with = "crate::json_time::option::serialize")]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberState {
    pub id: String,
    pub user_id: String,
    /// Empty when the ledger heard of the member only by a later fact.
    pub role: String,
    /// Still a member: not removed, not left.
    pub present: bool,
}

/// One fact, as Better Auth's organization plugin knows it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum Fact {
    #[serde(rename_all = "camelCase")]
    OrganizationCreated { name: String, slug: String },
    #[serde(rename_all = "camelCase")]
    InvitationCreated {
        invitation_id: String,
        inviter_id: String,
        email: String,
        role: String,
        #[serde(default)]
        team_id: Option<String>,
        #[schema(value_type = String, format = DateTime)]
        expires_at: DateTime<Utc>,
    },
    #[serde(rename_all = "camelCase")]
    InvitationResent {
        invitation_id: String,
        #[schema(value_type = String, format = DateTime)]
        expires_at: DateTime<Utc>,
    },
    #[serde(rename_all = "camelCase")]
    InvitationAccepted { invitation_id: String },
    #[serde(rename_all = "camelCase")]
    InvitationRejected { invitation_id: String },
    #[serde(rename_all = "camelCase")]
    InvitationCanceled { invitation_id: String },
    #[serde(rename_all = "camelCase")]
    InvitationExpired { invitation_id: String },
    #[serde(rename_all = "camelCase")]
    MemberAdded {
        member_id: String,
        user_id: String,
        role: String,
        #[serde(default)]
        invitation_id: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    MemberRoleChanged {
        member_id: String,
        user_id: String,
        role_before: String,
        role: String,
    },
    #[serde(rename_all = "camelCase")]
    MemberRemoved { member_id: String, user_id: String },
    #[serde(rename_all = "camelCase")]
    MemberLeft { member_id: String, user_id: String },
}

/// What the ledger did with a fact.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    /// `false`: the ledger held this fact already; nothing was written.
    pub recorded: bool,
    pub position: Option<String>,
}

/// The read models an organization's events show in.
const READ_MODELS: &[&str] = &[OrganizationInvitations::NAME, OrganizationMembers::NAME];

pub async fn allow(
    app: &Context,
    caller: Caller,
    request: AllowInvitation,
) -> Result<Allowed, ServiceError> {
    let organization_id = checked_id("organizationId", &request.organization_id)?;
    let invitation_id = checked_id("invitationId", &request.invitation_id)?;
    let role = checked_text("role", &request.role)?;
    let email = Email::parse(&request.email)?.into_string();
    check_email_domain(app, &role, &email)?;
    let inviter = people::person(app, caller, &request.actor).await?;
    let command = OrganizationCommand::Allow {
        invitation_id,
        inviter_id: inviter.id,
        email,
        role,
        quotas: app.settings.organization_quotas,
        at: app.clock.now(),
    };
    let position = app
        .ledger
        .execute(&organization_id, command, &Guard::default())
        .await?;
    Ok(Allowed {
        allowed: true,
        position: position.map(|p| p.to_string()),
    })
}

pub async fn record(
    app: &Context,
    caller: Caller,
    request: RecordFact,
) -> Result<Recorded, ServiceError> {
    let organization_id = checked_id("organizationId", &request.organization_id)?;
    let by_user_id = match &request.actor {
        Some(actor) => Some(people::person(app, caller, actor).await?.id),
        None => None,
    };
    let now = app.clock.now();
    if request.observed && (request.at.is_some() || keeps_its_time(&request.fact)) {
        return Err(ServiceError::bad_request(
            "VALIDATION_ERROR",
            "`observed` is for a change whose time Better Auth does not keep, recorded at \
             the ledger's time: not with `at`, nor for a creation or an addition",
        ));
    }
    let at = request.at.map_or(now, |at| at.min(now));
    let event = event_of(request.fact, by_user_id, at, request.observed)?;
    let position = app
        .ledger
        .execute(
            &organization_id,
            OrganizationCommand::Record(event),
            &Guard::default(),
        )
        .await?;
    settled(app, position).await
}

pub async fn state(
    app: &Context,
    request: StateRequest,
) -> Result<OrganizationState, ServiceError> {
    let organization_id = checked_id("organizationId", &request.organization_id)?;
    let held = app
        .ledger
        .load_organization(&organization_id)
        .await?
        .state();
    Ok(OrganizationState {
        organization_id,
        created: held.created,
        invitations: held
            .invitations
            .into_iter()
            .map(|i| InvitationState {
                id: i.id,
                created: i.created,
                status: i.status.map(|s| s.as_str().to_string()),
                expires_at: i.expires_at,
            })
            .collect(),
        members: held
            .members
            .into_iter()
            .map(|m| MemberState {
                id: m.id,
                user_id: m.user_id,
                role: m.role,
                present: m.present,
            })
            .collect(),
    })
}

/// Facts whose time Better Auth's tables always hold (`createdAt`).
fn keeps_its_time(fact: &Fact) -> bool {
    matches!(
        fact,
        Fact::OrganizationCreated { .. }
            | Fact::InvitationCreated { .. }
            | Fact::MemberAdded { .. }
    )
}

async fn settled(app: &Context, position: Option<Position>) -> Result<Recorded, ServiceError> {
    app.settle_on(position, READ_MODELS).await;
    Ok(Recorded {
        recorded: position.is_some(),
        position: position.map(|p| p.to_string()),
    })
}

/// The event a fact is, its ids and texts checked.
fn event_of(
    fact: Fact,
    by_user_id: Option<String>,
    at: DateTime<Utc>,
    observed: bool,
) -> Result<OrganizationEvent, ServiceError> {
    use OrganizationEvent as E;
    let id = checked_id;
    Ok(match fact {
        Fact::OrganizationCreated { name, slug } => E::OrganizationCreated {
            name: checked_text("name", &name)?,
            slug: checked_text("slug", &slug)?,
            by_user_id,
            at,
        },
        Fact::InvitationCreated {
            invitation_id,
            inviter_id,
            email,
            role,
            team_id,
            expires_at,
        } => E::InvitationCreated {
            invitation_id: id("invitationId", &invitation_id)?,
            inviter_id: id("inviterId", &inviter_id)?,
            email: Email::parse(&email)?.into_string(),
            role: checked_text("role", &role)?,
            team_id: team_id.map(|t| id("teamId", &t)).transpose()?,
            expires_at,
            at,
        },
        Fact::InvitationResent {
            invitation_id,
            expires_at,
        } => E::InvitationResent {
            invitation_id: id("invitationId", &invitation_id)?,
            by_user_id,
            expires_at,
            at,
            observed,
        },
        Fact::InvitationAccepted { invitation_id } => E::InvitationAccepted {
            invitation_id: id("invitationId", &invitation_id)?,
            by_user_id,
            at,
            observed,
        },
        Fact::InvitationRejected { invitation_id } => E::InvitationRejected {
            invitation_id: id("invitationId", &invitation_id)?,
            by_user_id,
            at,
            observed,
        },
        Fact::InvitationCanceled { invitation_id } => E::InvitationCanceled {
            invitation_id: id("invitationId", &invitation_id)?,
            by_user_id,
            at,
            observed,
        },
        Fact::InvitationExpired { invitation_id } => E::InvitationExpired {
            invitation_id: id("invitationId", &invitation_id)?,
            at,
            observed,
        },
        Fact::MemberAdded {
            member_id,
            user_id,
            role,
            invitation_id,
        } => E::MemberAdded {
            member_id: id("memberId", &member_id)?,
            user_id: id("userId", &user_id)?,
            role: checked_text("role", &role)?,
            invitation_id: invitation_id.map(|i| id("invitationId", &i)).transpose()?,
            by_user_id,
            at,
        },
        Fact::MemberRoleChanged {
            member_id,
            user_id,
            role_before,
            role,
        } => E::MemberRoleChanged {
            member_id: id("memberId", &member_id)?,
            user_id: id("userId", &user_id)?,
            role_before: checked_text("roleBefore", &role_before)?,
            role: checked_text("role", &role)?,
            by_user_id,
            at,
            observed,
        },
        Fact::MemberRemoved { member_id, user_id } => E::MemberRemoved {
            member_id: id("memberId", &member_id)?,
            user_id: id("userId", &user_id)?,
            by_user_id,
            at,
            observed,
        },
        Fact::MemberLeft { member_id, user_id } => E::MemberLeft {
            member_id: id("memberId", &member_id)?,
            user_id: id("userId", &user_id)?,
            at,
            observed,
        },
    })
}

/// Better Auth's ids: 1 to 255 characters, no control characters.
fn checked_id(field: &str, id: &str) -> Result<String, ServiceError> {
    let id = id.trim();
    if id.is_empty() || id.len() > MAX_ID_LENGTH || id.chars().any(char::is_control) {
        return Err(ServiceError::bad_request(
            "INVALID_ID",
            format!(
                "`{field}` is 1 to {MAX_ID_LENGTH} characters, none of them control characters"
            ),
        ));
    }
    Ok(id.to_string())
}

/// A role, a name, a slug: 1 to 200 characters, no control characters.
fn checked_text(field: &str, text: &str) -> Result<String, ServiceError> {
    let text = text.trim();
    if text.is_empty()
        || text.chars().count() > MAX_TEXT_LENGTH
        || text.chars().any(char::is_control)
    {
        return Err(ServiceError::bad_request(
            "VALIDATION_ERROR",
            format!(
                "`{field}` is 1 to {MAX_TEXT_LENGTH} characters, none of them control characters"
            ),
        ));
    }
    Ok(text.to_string())
}
