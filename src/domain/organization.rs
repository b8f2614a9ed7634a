//! The Organization aggregate: what a Better Auth server's organization plugin
//! decided about one organization (keyed by Better Auth's organization id),
//! recorded as facts with who and when (decision 19), and the one decision the
//! ledger makes beforehand: whether an invitation may be created (quotas per
//! inviter and per organization). Every fact names Better Auth's own ids, so
//! recording one twice writes nothing the second time.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use super::decide::Decide;
use super::quota::Limits;
use super::roles::RolePolicy;

pub const AGGREGATE_TYPE: &str = "organization";

/// An allowance that no invitation followed counts as open this long (the
/// invitation's write failed, or is still on its way).
pub const ALLOWANCE_HOLD: Duration = Duration::minutes(10);

/// The quotas an invitation is weighed against: the inviter's within the
/// organization, and the organization's own (`ORGANIZATION_INVITE_QUOTAS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationQuotas {
    pub inviter: Limits,
    pub organization: Limits,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrganizationCommand {
    /// Before Better Auth writes an invitation: room under the quotas?
    Allow {
        invitation_id: String,
        inviter_id: String,
        email: String,
        role: String,
        quotas: OrganizationQuotas,
        at: DateTime<Utc>,
    },
    /// Something Better Auth did; nothing if the ledger has it already.
    Record(OrganizationEvent),
}

/// An invitation's status as Better Auth's `invitation` table spells it (plus
/// `expired`, which Better Auth leaves as `pending`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Rejected,
    Canceled,
    Expired,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Rejected => "rejected",
            InvitationStatus::Canceled => "canceled",
            InvitationStatus::Expired => "expired",
        }
    }
}

/// Event names are the log's: unique across aggregates (`Invitation*`,
/// `Member*`), so an event type alone says where its fields are. A change
/// whose time Better Auth's tables do not keep (a status, a role, a member
/// gone) may be `observed`: its `at` is when a reconciliation found it there,
/// and it happened before. Creations and additions always carry their time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrganizationEvent {
    OrganizationCreated {
        name: String,
        slug: String,
        by_user_id: Option<String>,
        at: DateTime<Utc>,
    },
    /// The ledger let an invitation be created (counted against the quotas).
    InvitationAllowed {
        invitation_id: String,
        inviter_id: String,
        email: String,
        role: String,
        at: DateTime<Utc>,
    },
    InvitationCreated {
        invitation_id: String,
        inviter_id: String,
        email: String,
        role: String,
        team_id: Option<String>,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// Sent again, with a new expiry (`inviteMember({resend: true})`).
    InvitationResent {
        invitation_id: String,
        by_user_id: Option<String>,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "is_false")]
        observed: bool,
    },
    InvitationAccepted {
        invitation_id: String,
        by_user_id: Option<String>,
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "is_false")]
        observed: bool,
    },
    InvitationRejected {
        invitation_id: String,
        by_user_id: Option<String>,
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "is_false")]
        observed: bool,
    },
    InvitationCanceled {
        invitation_id: String,
        by_user_id: Option<String>,
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "is_false")]
        observed: bool,
    },
    /// Past its expiry while still pending (Better Auth records no such thing).
    InvitationExpired {
        invitation_id: String,
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "is_false")]
        observed: bool,
    },
    MemberAdded {
        member_id: String,
        user_id: String,
        role: String,
        /// The invitation accepted, when that is how the member came in.
        invitation_id: Option<String>,
        by_user_id: Option<String>,
        at: DateTime<Utc>,
    },
    MemberRoleChanged {
        member_id: String,
        user_id: String,
        role_before: String,
        role: String,
        by_user_id: Option<String>,
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "is_false")]
        observed: bool,
    },
    MemberRemoved {
        member_id: String,
        user_id: String,
        by_user_id: Option<String>,
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "is_false")]
        observed: bool,
    },
    MemberLeft {
        member_id: String,
        user_id: String,
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "is_false")]
        observed: bool,
    },
}

fn is_false(flag: &bool) -> bool {
    !flag
}

impl OrganizationEvent {
    pub fn at(&self) -> DateTime<Utc> {
        use OrganizationEvent::*;
        match self {
            OrganizationCreated { at, .. }
            | InvitationAllowed { at, .. }
            | InvitationCreated { at, .. }
            | InvitationResent { at, .. }
            | InvitationAccepted { at, .. }
            | InvitationRejected { at, .. }
            | InvitationCanceled { at, .. }
            | InvitationExpired { at, .. }
            | MemberAdded { at, .. }
            | MemberRoleChanged { at, .. }
            | MemberRemoved { at, .. }
            | MemberLeft { at, .. } => *at,
        }
    }

    /// Its `at` is when a reconciliation found it, not when it happened.
    pub fn observed(&self) -> bool {
        use OrganizationEvent::*;
        match self {
            InvitationResent { observed, .. }
            | InvitationAccepted { observed, .. }
            | InvitationRejected { observed, .. }
            | InvitationCanceled { observed, .. }
            | InvitationExpired { observed, .. }
            | MemberRoleChanged { observed, .. }
            | MemberRemoved { observed, .. }
            | MemberLeft { observed, .. } => *observed,
            OrganizationCreated { .. }
            | InvitationAllowed { .. }
            | InvitationCreated { .. }
            | MemberAdded { .. } => false,
        }
    }

    /// The invitation the event is about, if any.
    pub fn invitation_id(&self) -> Option<&str> {
        use OrganizationEvent::*;
        match self {
            InvitationAllowed { invitation_id, .. }
            | InvitationCreated { invitation_id, .. }
            | InvitationResent { invitation_id, .. }
            | InvitationAccepted { invitation_id, .. }
            | InvitationRejected { invitation_id, .. }
            | InvitationCanceled { invitation_id, .. }
            | InvitationExpired { invitation_id, .. } => Some(invitation_id),
            MemberAdded { invitation_id, .. } => invitation_id.as_deref(),
            _ => None,
        }
    }
}

impl DomainEvent for OrganizationEvent {
    fn event_type(&self) -> String {
        use OrganizationEvent::*;
        match self {
            OrganizationCreated { .. } => "OrganizationCreated",
            InvitationAllowed { .. } => "InvitationAllowed",
            InvitationCreated { .. } => "InvitationCreated",
            InvitationResent { .. } => "InvitationResent",
            InvitationAccepted { .. } => "InvitationAccepted",
            InvitationRejected { .. } => "InvitationRejected",
            InvitationCanceled { .. } => "InvitationCanceled",
            InvitationExpired { .. } => "InvitationExpired",
            MemberAdded { .. } => "MemberAdded",
            MemberRoleChanged { .. } => "MemberRoleChanged",
            MemberRemoved { .. } => "MemberRemoved",
            MemberLeft { .. } => "MemberLeft",
        }
        .to_string()
    }

    /// 2: personal fields (emails) are sealed in the log, as every event's.
    fn event_version(&self) -> String {
        "2".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganizationError {
    /// The limit reached, e.g. `open invitations of this inviter: 5 of 5`.
    #[error("Invitation quota reached ({0})")]
    QuotaExceeded(String),
}

impl OrganizationError {
    pub fn code(&self) -> &'static str {
        match self {
            OrganizationError::QuotaExceeded(_) => "INVITE_QUOTA_EXCEEDED",
        }
    }
}

/// What the aggregate keeps of one invitation: enough to count quotas and to
/// know a fact it has already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Invitation {
    inviter_id: String,
    /// Its creation is recorded (a fact about it may arrive first).
    created: bool,
    /// `None`: allowed, not yet created.
    status: Option<InvitationStatus>,
    allowed_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
}

impl Invitation {
    /// An invitation first heard of by a fact other than its creation.
    fn unknown(at: DateTime<Utc>) -> Self {
        Invitation {
            inviter_id: String::new(),
            created: false,
            status: None,
            allowed_at: at,
            expires_at: None,
        }
    }

    /// Open at `now`: allowed a moment ago, or pending and not expired.
    fn open_at(&self, now: DateTime<Utc>) -> bool {
        match (self.status, self.expires_at) {
            (None, _) => now < self.allowed_at + ALLOWANCE_HOLD,
            (Some(InvitationStatus::Pending), Some(expires)) => now < expires,
            _ => false,
        }
    }

    fn today_at(&self, now: DateTime<Utc>) -> bool {
        now - self.allowed_at < Duration::days(1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Member {
    user_id: String,
    role: String,
    present: bool,
}

/// What the ledger holds of an organization, as a reconciliation compares it
/// with Better Auth's tables (by id, sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationState {
    pub created: bool,
    pub invitations: Vec<InvitationState>,
    pub members: Vec<MemberState>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationState {
    pub id: String,
    /// Its creation is recorded.
    pub created: bool,
    /// `None`: allowed, or only heard of by a later fact.
    pub status: Option<InvitationStatus>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberState {
    pub id: String,
    pub user_id: String,
    /// Empty when the ledger heard of the member only by a later fact.
    pub role: String,
    /// Still a member (not removed, not left).
    pub present: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    created: bool,
    invitations: HashMap<String, Invitation>,
    members: HashMap<String, Member>,
}

impl Organization {
    pub fn state(&self) -> OrganizationState {
        let mut invitations: Vec<InvitationState> = self
            .invitations
            .iter()
            .map(|(id, i)| InvitationState {
                id: id.clone(),
                created: i.created,
                status: i.status,
                expires_at: i.expires_at,
            })
            .collect();
        invitations.sort_by(|a, b| a.id.cmp(&b.id));
        let mut members: Vec<MemberState> = self
            .members
            .iter()
            .map(|(id, m)| MemberState {
                id: id.clone(),
                user_id: m.user_id.clone(),
                role: m.role.clone(),
                present: m.present,
            })
            .collect();
        members.sort_by(|a, b| a.id.cmp(&b.id));
        OrganizationState {
            created: self.created,
            invitations,
            members,
        }
    }

    /// The first limit an invitation by `inviter_id` at `now` would pass.
    fn over_quota(
        &self,
        inviter_id: &str,
        quotas: &OrganizationQuotas,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let (mut open, mut day, mut inviter_open, mut inviter_day) = (0u32, 0u32, 0u32, 0u32);
        for invitation in self.invitations.values() {
            let (is_open, is_today) = (invitation.open_at(now), invitation.today_at(now));
            let mine = invitation.inviter_id == inviter_id;
            open += u32::from(is_open);
            day += u32::from(is_today);
            inviter_open += u32::from(is_open && mine);
            inviter_day += u32::from(is_today && mine);
        }
        let checks = [
            (
                quotas.inviter.open,
                inviter_open,
                "open invitations of this inviter",
            ),
            (
                quotas.inviter.day,
                inviter_day,
                "invitations by this inviter in 24 hours",
            ),
            (
                quotas.organization.open,
                open,
                "open invitations of this organization",
            ),
            (
                quotas.organization.day,
                day,
                "invitations of this organization in 24 hours",
            ),
        ];
        checks.into_iter().find_map(|(limit, used, what)| {
            limit
                .filter(|limit| used >= *limit)
                .map(|limit| format!("{what}: {used} of {limit}"))
        })
    }

    /// The expiries the ledger owes at `now`: every invitation it holds as
    /// created and pending whose `expires_at` has passed (Better Auth leaves
    /// it `pending`), each at its true time, its `expires_at`. `except`: the
    /// invitation the fact at hand is about, whose fate that fact tells.
    fn due_expiries(&self, now: DateTime<Utc>, except: Option<&str>) -> Vec<OrganizationEvent> {
        let mut due: Vec<(DateTime<Utc>, &String)> = self
            .invitations
            .iter()
            .filter(|(id, i)| {
                i.created
                    && i.status == Some(InvitationStatus::Pending)
                    && except != Some(id.as_str())
            })
            .filter_map(|(id, i)| i.expires_at.filter(|at| *at <= now).map(|at| (at, id)))
            .collect();
        due.sort();
        due.into_iter()
            .map(|(at, id)| OrganizationEvent::InvitationExpired {
                invitation_id: id.clone(),
                at,
                observed: false,
            })
            .collect()
    }

    fn status_of(&self, invitation_id: &str) -> Option<InvitationStatus> {
        self.invitations.get(invitation_id).and_then(|i| i.status)
    }

    /// Whether the ledger holds this fact already (Better Auth's ids and the
    /// state they name make the check: a fact recorded twice writes nothing).
    fn knows(&self, fact: &OrganizationEvent) -> bool {
        use OrganizationEvent::*;
        let member = |id: &str| self.members.get(id);
        match fact {
            OrganizationCreated { .. } => self.created,
            InvitationAllowed { invitation_id, .. } => self.invitations.contains_key(invitation_id),
            InvitationCreated { invitation_id, .. } => self
                .invitations
                .get(invitation_id)
                .is_some_and(|i| i.created),
            InvitationResent {
                invitation_id,
                expires_at,
                ..
            } => self
                .invitations
                .get(invitation_id)
                .is_some_and(|i| i.expires_at == Some(*expires_at)),
            InvitationAccepted { invitation_id, .. } => {
                self.status_of(invitation_id) == Some(InvitationStatus::Accepted)
            }
            InvitationRejected { invitation_id, .. } => {
                self.status_of(invitation_id) == Some(InvitationStatus::Rejected)
            }
            InvitationCanceled { invitation_id, .. } => {
                self.status_of(invitation_id) == Some(InvitationStatus::Canceled)
            }
            // Only a pending invitation expires.
            InvitationExpired { invitation_id, .. } => {
                self.status_of(invitation_id) != Some(InvitationStatus::Pending)
            }
            MemberAdded { member_id, .. } => member(member_id).is_some(),
            MemberRoleChanged {
                member_id, role, ..
            } => member(member_id).is_some_and(|m| m.role == *role),
            MemberRemoved { member_id, .. } | MemberLeft { member_id, .. } => {
                member(member_id).is_some_and(|m| !m.present)
            }
        }
    }
}

impl Decide for Organization {
    fn decide(
        &self,
        command: OrganizationCommand,
        _roles: &RolePolicy,
    ) -> Result<Vec<OrganizationEvent>, OrganizationError> {
        match command {
            OrganizationCommand::Allow {
                invitation_id,
                inviter_id,
                email,
                role,
                quotas,
                at,
            } => {
                // A retried question about the same invitation is answered yes again.
                if self.invitations.contains_key(&invitation_id) {
                    return Ok(vec![]);
                }
                if let Some(limit) = self.over_quota(&inviter_id, &quotas, at) {
                    return Err(OrganizationError::QuotaExceeded(limit));
                }
                let mut events = self.due_expiries(at, Some(&invitation_id));
                events.push(OrganizationEvent::InvitationAllowed {
                    invitation_id,
                    inviter_id,
                    email,
                    role,
                    at,
                });
                Ok(events)
            }
            OrganizationCommand::Record(fact) => {
                if matches!(fact, OrganizationEvent::InvitationAllowed { .. }) || self.knows(&fact)
                {
                    return Ok(vec![]);
                }
                // A fact with its time says the organization stood there then:
                // what had expired by then is recorded first. An observed one
                // (a reconciliation's, at the ledger's time) sweeps nothing: a
                // lost hook it may still report could be the fate of one.
                let mut events = if fact.observed() {
                    vec![]
                } else {
                    self.due_expiries(fact.at(), fact.invitation_id())
                };
                events.push(fact);
                Ok(events)
            }
        }
    }
}

impl Aggregate for Organization {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = OrganizationCommand;
    type Event = OrganizationEvent;
    type Error = OrganizationError;
    type Services = RolePolicy;

    async fn handle(
        &mut self,
        command: Self::Command,
        roles: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        super::decide::handle(self, command, roles, sink).await
    }

    fn apply(&mut self, event: Self::Event) {
        use OrganizationEvent::*;
        // A fact may name an invitation the ledger has not heard created (its
        // creation was lost and is reconciled later): it is kept all the same,
        // so the fact is known when it comes again.
        let at = event.at();
        let mut set_status = |id: String, status| {
            let invitation = self
                .invitations
                .entry(id)
                .or_insert_with(|| Invitation::unknown(at));
            invitation.status = Some(status);
        };
        match event {
            OrganizationCreated { .. } => self.created = true,
            InvitationAllowed {
                invitation_id,
                inviter_id,
                at,
                ..
            } => {
                self.invitations.insert(
                    invitation_id,
                    Invitation {
                        inviter_id,
                        ..Invitation::unknown(at)
                    },
                );
            }
            InvitationCreated {
                invitation_id,
                inviter_id,
                expires_at,
                at,
                ..
            } => {
                let invitation = self
                    .invitations
                    .entry(invitation_id)
                    .or_insert_with(|| Invitation::unknown(at));
                invitation.inviter_id = inviter_id;
                invitation.created = true;
                invitation.status.get_or_insert(InvitationStatus::Pending);
                invitation.expires_at = Some(expires_at);
            }
            InvitationResent {
                invitation_id,
                expires_at,
                ..
            } => {
                if let Some(invitation) = self.invitations.get_mut(&invitation_id) {
                    invitation.expires_at = Some(expires_at);
                }
            }
            InvitationAccepted { invitation_id, .. } => {
                set_status(invitation_id, InvitationStatus::Accepted)
            }
            InvitationRejected { invitation_id, .. } => {
                set_status(invitation_id, InvitationStatus::Rejected)
            }
            InvitationCanceled { invitation_id, .. } => {
                set_status(invitation_id, InvitationStatus::Canceled)
            }
            InvitationExpired { invitation_id, .. } => {
                set_status(invitation_id, InvitationStatus::Expired)
            }
            MemberAdded {
                member_id,
                user_id,
                role,
                ..
            } => {
                self.members.insert(
                    member_id,
                    Member {
                        user_id,
                        role,
                        present: true,
                    },
                );
            }
            MemberRoleChanged {
                member_id,
                user_id,
                role,
                ..
            } => {
                let member = self.members.entry(member_id).or_insert(Member {
                    user_id,
                    role: String::new(),
                    present: true,
                });
                member.role = role;
            }
            MemberRemoved {
                member_id, user_id, ..
            }
            | MemberLeft {
                member_id, user_id, ..
            } => {
                let member = self.members.entry(member_id).or_insert(Member {
                    user_id,
                    role: String::new(),
                    present: false,
                });
                member.present = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn created(id: &str, inviter: &str) -> OrganizationEvent {
        created_at(id, inviter, t0())
    }

    /// Created at `at`, expiring two days after `t0`.
    fn created_at(id: &str, inviter: &str, at: DateTime<Utc>) -> OrganizationEvent {
        OrganizationEvent::InvitationCreated {
            invitation_id: id.into(),
            inviter_id: inviter.into(),
            email: format!("{id}@x.com"),
            role: "member".into(),
            team_id: None,
            expires_at: t0() + Duration::days(2),
            at,
        }
    }

    fn allow(id: &str, inviter: &str, quotas: OrganizationQuotas) -> OrganizationCommand {
        OrganizationCommand::Allow {
            invitation_id: id.into(),
            inviter_id: inviter.into(),
            email: format!("{id}@x.com"),
            role: "member".into(),
            quotas,
            at: t0() + Duration::hours(1),
        }
    }

    fn limits(open: u32) -> Limits {
        Limits {
            open: Some(open),
            day: None,
        }
    }

    #[test]
    fn a_fact_recorded_twice_is_written_once() {
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![created("i1", "a")])
            .when(OrganizationCommand::Record(created("i1", "a")))
            .then_expect_events(vec![]);
        let accepted = OrganizationEvent::InvitationAccepted {
            invitation_id: "i1".into(),
            by_user_id: Some("b".into()),
            at: t0(),
            observed: false,
        };
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![created("i1", "a")])
            .when(OrganizationCommand::Record(accepted.clone()))
            .then_expect_events(vec![accepted.clone()]);
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![created("i1", "a"), accepted.clone()])
            .when(OrganizationCommand::Record(accepted))
            .then_expect_events(vec![]);
    }

    #[test]
    fn a_fact_about_an_invitation_not_yet_heard_of_is_kept_once() {
        let rejected = OrganizationEvent::InvitationRejected {
            invitation_id: "i9".into(),
            by_user_id: None,
            at: t0(),
            observed: false,
        };
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![rejected.clone()])
            .when(OrganizationCommand::Record(rejected.clone()))
            .then_expect_events(vec![]);
        // Its creation, reconciled later, is still recorded.
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![rejected])
            .when(OrganizationCommand::Record(created("i9", "a")))
            .then_expect_events(vec![created("i9", "a")]);
    }

    #[test]
    fn quotas_count_open_invitations_per_inviter_and_per_organization() {
        let per_inviter = OrganizationQuotas {
            inviter: limits(1),
            organization: Limits::default(),
        };
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![created("i1", "a")])
            .when(allow("i2", "a", per_inviter))
            .then_expect_error(OrganizationError::QuotaExceeded(
                "open invitations of this inviter: 1 of 1".into(),
            ));
        // Another inviter has room; the organization's limit counts everyone's.
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![created("i1", "a")])
            .when(allow("i2", "b", per_inviter))
            .then_expect_events(vec![OrganizationEvent::InvitationAllowed {
                invitation_id: "i2".into(),
                inviter_id: "b".into(),
                email: "i2@x.com".into(),
                role: "member".into(),
                at: t0() + Duration::hours(1),
            }]);
        let per_organization = OrganizationQuotas {
            inviter: Limits::default(),
            organization: limits(1),
        };
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![created("i1", "a")])
            .when(allow("i2", "b", per_organization))
            .then_expect_error(OrganizationError::QuotaExceeded(
                "open invitations of this organization: 1 of 1".into(),
            ));
        // A canceled invitation is no longer open.
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![
                created("i1", "a"),
                OrganizationEvent::InvitationCanceled {
                    invitation_id: "i1".into(),
                    by_user_id: None,
                    at: t0(),
                    observed: false,
                },
            ])
            .when(allow("i2", "a", per_organization))
            .then_expect_events(vec![OrganizationEvent::InvitationAllowed {
                invitation_id: "i2".into(),
                inviter_id: "a".into(),
                email: "i2@x.com".into(),
                role: "member".into(),
                at: t0() + Duration::hours(1),
            }]);
    }

    #[test]
    fn a_pending_invitation_past_its_expiry_is_recorded_expired_at_its_expiry_once() {
        let expires = t0() + Duration::days(2);
        let expired = OrganizationEvent::InvitationExpired {
            invitation_id: "i1".into(),
            at: expires,
            observed: false,
        };
        let later = |id: &str| created_at(id, "a", expires + Duration::hours(1));
        // The next fact after the expiry records it first, at `expires_at`.
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![created("i1", "a")])
            .when(OrganizationCommand::Record(later("i2")))
            .then_expect_events(vec![expired.clone(), later("i2")]);
        // Once: it is no longer pending.
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![created("i1", "a"), expired.clone()])
            .when(OrganizationCommand::Record(later("i3")))
            .then_expect_events(vec![later("i3")]);
        // Not before its time, not an invitation the fact is about, not by an
        // observed fact.
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![created("i1", "a")])
            .when(OrganizationCommand::Record(created("i2", "a")))
            .then_expect_events(vec![created("i2", "a")]);
        let canceled = OrganizationEvent::InvitationCanceled {
            invitation_id: "i1".into(),
            by_user_id: None,
            at: expires + Duration::hours(1),
            observed: false,
        };
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![created("i1", "a")])
            .when(OrganizationCommand::Record(canceled.clone()))
            .then_expect_events(vec![canceled]);
        let observed = OrganizationEvent::InvitationRejected {
            invitation_id: "i2".into(),
            by_user_id: None,
            at: expires + Duration::hours(1),
            observed: true,
        };
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![created("i1", "a"), created("i2", "a")])
            .when(OrganizationCommand::Record(observed.clone()))
            .then_expect_events(vec![observed]);
        // An allowance after the expiry records it too.
        let mut allowed = allow("i4", "b", OrganizationQuotas::default());
        if let OrganizationCommand::Allow { at, .. } = &mut allowed {
            *at = expires;
        }
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![created("i1", "a")])
            .when(allowed)
            .then_expect_events(vec![
                expired,
                OrganizationEvent::InvitationAllowed {
                    invitation_id: "i4".into(),
                    inviter_id: "b".into(),
                    email: "i4@x.com".into(),
                    role: "member".into(),
                    at: expires,
                },
            ]);
    }

    #[test]
    fn members_leave_once() {
        let added = OrganizationEvent::MemberAdded {
            member_id: "m1".into(),
            user_id: "u1".into(),
            role: "member".into(),
            invitation_id: None,
            by_user_id: None,
            at: t0(),
        };
        let left = OrganizationEvent::MemberLeft {
            member_id: "m1".into(),
            user_id: "u1".into(),
            at: t0(),
            observed: false,
        };
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![added.clone(), left.clone()])
            .when(OrganizationCommand::Record(left))
            .then_expect_events(vec![]);
        TestFramework::<Organization>::with(RolePolicy::default())
            .given(vec![added])
            .when(OrganizationCommand::Record(
                OrganizationEvent::MemberRemoved {
                    member_id: "m1".into(),
                    user_id: "u1".into(),
                    by_user_id: Some("boss".into()),
                    at: t0(),
                    observed: false,
                },
            ))
            .then_expect_events(vec![OrganizationEvent::MemberRemoved {
                member_id: "m1".into(),
                user_id: "u1".into(),
                by_user_id: Some("boss".into()),
                at: t0(),
                observed: false,
            }]);
    }
}
