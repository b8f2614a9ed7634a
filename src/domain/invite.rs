//! The Invite aggregate. One aggregate per invite, keyed by the hash of its token,
//! so two invites can never share a token (the store's key refuses the second).

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::closing::{is_expired, Closed};
use super::decide::Decide;
use super::roles::RolePolicy;
use super::token::TokenType;

mod seats;
mod uses;
pub use seats::Seat;
pub use uses::UseLimit;

pub const AGGREGATE_TYPE: &str = "invite";

/// Who is acting: a signed-in user as the ledger knows them at that moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
}

/// Everything an invite is created with; defaults are resolved before this point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteTerms {
    pub invite_id: Uuid,
    pub token_type: TokenType,
    pub role: String,
    /// Lower-case email for a private invite; `None` for a public one.
    pub email: Option<String>,
    /// The invitee's user id (`user_id_for_email` of `email`), which the
    /// ledger writes beside the email so the invitee's rows are found once
    /// the email is erased. Filled in when the event is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitee_id: Option<String>,
    /// The invitee's name, when the inviter gave one (bulk invites); for the email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitee_name: Option<String>,
    /// For a private invite: no account had this email when it was created.
    pub new_account: bool,
    pub max_uses: u32,
    /// No limit on uses (better-invite's `infinityMaxUses`); `max_uses` is then 1,
    /// as the plugin stores it. Absent in events written before it existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub infinity_max_uses: bool,
    pub expires_at: DateTime<Utc>,
    pub redirect_to_sign_up: String,
    pub redirect_to_sign_in: String,
    pub redirect_to_after_upgrade: String,
    pub share_inviter_name: bool,
    /// Where a public invite's URL sends the visitor: `"signUp"` or `"signIn"`.
    pub sender_response_redirect: String,
    /// A private invite's token, sealed with the server's key so the email
    /// reactor can send (and resend) it; see `domain::token_seal`. Absent in
    /// public invites and in events written before sealing existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_token: Option<String>,
    /// The plugin's `customInviteUrl`: the invite link's path under `/api/auth`,
    /// with `{token}` and `{callbackURL}` filled in. Absent: the standard link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_invite_url: Option<String>,
}

// Commands live for one request; boxing `Create`'s terms would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InviteCommand {
    Create {
        terms: InviteTerms,
        inviter: Actor,
        at: DateTime<Utc>,
    },
    Activate {
        by: Option<Actor>,
        at: DateTime<Utc>,
    },
    Use {
        user: Actor,
        new_account: bool,
        at: DateTime<Utc>,
    },
    Cancel {
        by: Actor,
        at: DateTime<Utc>,
    },
    Reject {
        by: Actor,
        at: DateTime<Utc>,
    },
    Expire {
        at: DateTime<Utc>,
    },
    /// Send a private invite's email again.
    Resend {
        by: Actor,
        at: DateTime<Utc>,
    },
    /// Keep a refused use or activation of this invite for the audit.
    RecordRefusal {
        refusal: Refusal,
        at: DateTime<Utc>,
    },
    /// Hold a seat for a sign-up a Better Auth server is about to write: it
    /// counts against `maxUses` until confirmed (a use) or released.
    Reserve {
        user: Actor,
        reservation_id: Uuid,
        until: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// The sign-up committed: the held seat becomes a use.
    ConfirmSeat {
        reservation_id: Uuid,
        at: DateTime<Utc>,
    },
    /// The sign-up never committed: the seat is given back.
    ReleaseSeat {
        reservation_id: Uuid,
        reason: String,
        at: DateTime<Utc>,
    },
}

/// A use or activation of an existing invite that was refused: who tried and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// `use` or `activation`.
    pub attempt: String,
    /// The code the caller was given (`INVITE_EXPIRED`, `EMAIL_MISMATCH`, ...).
    pub reason: String,
    /// The account that tried, when it had one.
    pub user_id: Option<String>,
    /// The email it tried with, when known.
    pub email: Option<String>,
    /// The client's address and user agent, where the operator records them
    /// (`RECORD_CLIENT_DETAILS`); absent otherwise and in older events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

// `Created` carries the terms; events are decoded and folded one at a time,
// so boxing them would only add an allocation to each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InviteEvent {
    Created {
        terms: InviteTerms,
        inviter_id: String,
        inviter_name: String,
        inviter_email: String,
        inviter_role: String,
        at: DateTime<Utc>,
    },
    Activated {
        by_user_id: Option<String>,
        at: DateTime<Utc>,
    },
    Used {
        invite_id: Uuid,
        inviter_id: String,
        user_id: String,
        user_email: String,
        role_before: String,
        role_after: String,
        new_account: bool,
        at: DateTime<Utc>,
        /// The seat this use confirms, for a sign-up that reserved one first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reservation_id: Option<Uuid>,
    },
    Cancelled {
        by_user_id: String,
        at: DateTime<Utc>,
    },
    Rejected {
        by_user_id: String,
        at: DateTime<Utc>,
    },
    Expired {
        at: DateTime<Utc>,
    },
    /// The invitation email was asked for again; read models ignore it.
    Resent {
        by_user_id: String,
        at: DateTime<Utc>,
    },
    /// A use or activation was refused; read models ignore it, the audit shows it.
    Refused {
        refusal: Refusal,
        at: DateTime<Utc>,
    },
    /// A seat held for a sign-up in a Better Auth server, until `until`; it
    /// counts against `maxUses` until a `Used` confirms it or `SeatReleased`.
    SeatReserved {
        reservation_id: Uuid,
        user_id: String,
        user_email: String,
        user_name: String,
        role_before: String,
        until: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// A held seat given back: its sign-up never committed. `reason` says who
    /// decided: `user_absent` (the plugin said so), `unanswered` (it never did).
    SeatReleased {
        reservation_id: Uuid,
        reason: String,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for InviteEvent {
    fn event_type(&self) -> String {
        match self {
            InviteEvent::Created { .. } => "Created",
            InviteEvent::Activated { .. } => "Activated",
            InviteEvent::Used { .. } => "Used",
            InviteEvent::Cancelled { .. } => "Cancelled",
            InviteEvent::Rejected { .. } => "Rejected",
            InviteEvent::Expired { .. } => "Expired",
            InviteEvent::Resent { .. } => "Resent",
            InviteEvent::Refused { .. } => "Refused",
            InviteEvent::SeatReserved { .. } => "SeatReserved",
            InviteEvent::SeatReleased { .. } => "SeatReleased",
        }
        .to_string()
    }

    /// 2: personal fields are sealed in the log (`ledger::personal`).
    fn event_version(&self) -> String {
        "2".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    #[error("Invalid invite token")]
    NotFound,
    #[error("An invite with this token already exists")]
    TokenTaken,
    #[error("Role `{0}` is not configured")]
    UnknownRole(String),
    #[error("You are not allowed to create an invite for role `{0}`")]
    NotAllowedToInvite(String),
    #[error("maxUses must be at least 1")]
    InvalidMaxUses,
    #[error("The expiry must be in the future")]
    InvalidExpiry,
    #[error("The invite has expired")]
    Expired,
    #[error("The invite has no uses left")]
    UsedUp,
    #[error("The invite was cancelled")]
    Cancelled,
    #[error("The invite was rejected")]
    Rejected,
    #[error("This invite was sent to another email address")]
    EmailMismatch,
    #[error("You cannot use an invite you created")]
    OwnInvite,
    #[error("This invite would lower your role")]
    WouldLowerRole,
    #[error("Only the user who created the invite can cancel it")]
    NotCreator,
    #[error("Only the invited user can reject the invite")]
    NotInvitee,
    #[error("Only private invites (sent to an email) can be rejected")]
    NotPrivate,
    #[error("The invite has not expired")]
    NotExpired,
    #[error("This user has already used this invite: a person uses an invite once")]
    AlreadyUsedByUser,
    #[error("Only the user who created the invite or an admin can resend it")]
    NotAllowedToResend,
    #[error("This invite's token was not kept, so its email cannot be sent again")]
    TokenNotKept,
    #[error("No seat is held under this reservation")]
    ReservationNotFound,
    #[error("This reservation's seat was given back")]
    ReservationReleased,
}

impl InviteError {
    /// The stable error code clients see, as Better Auth spells its codes.
    pub fn code(&self) -> &'static str {
        match self {
            InviteError::NotFound => "INVALID_TOKEN",
            InviteError::TokenTaken => "TOKEN_ALREADY_EXISTS",
            InviteError::UnknownRole(_) => "ROLE_NOT_CONFIGURED",
            InviteError::NotAllowedToInvite(_) => "INSUFFICIENT_PERMISSIONS",
            InviteError::InvalidMaxUses => "INVALID_MAX_USES",
            InviteError::InvalidExpiry => "INVALID_EXPIRES_IN",
            InviteError::Expired => "INVITE_EXPIRED",
            InviteError::UsedUp => "INVITE_USED_UP",
            InviteError::Cancelled => "INVITE_CANCELLED",
            InviteError::Rejected => "INVITE_REJECTED",
            InviteError::EmailMismatch => "INVITE_EMAIL_MISMATCH",
            InviteError::OwnInvite => "CANNOT_USE_OWN_INVITE",
            InviteError::WouldLowerRole => "INVITE_WOULD_LOWER_ROLE",
            InviteError::NotCreator => "NOT_INVITE_CREATOR",
            InviteError::NotInvitee => "NOT_INVITEE",
            InviteError::NotPrivate => "NOT_A_PRIVATE_INVITE",
            InviteError::NotExpired => "INVITE_NOT_EXPIRED",
            InviteError::AlreadyUsedByUser => "INVITE_ALREADY_USED_BY_USER",
            InviteError::NotAllowedToResend => "NOT_ALLOWED_TO_RESEND",
            InviteError::TokenNotKept => "INVITE_TOKEN_NOT_KEPT",
            InviteError::ReservationNotFound => "RESERVATION_NOT_FOUND",
            InviteError::ReservationReleased => "RESERVATION_RELEASED",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    created: Option<Created>,
    uses: u32,
    closed: Option<Closed>,
    /// Seats held for sign-ups not yet confirmed or released.
    seats: std::collections::BTreeMap<Uuid, Seat>,
    /// Reservations settled: `true` confirmed, `false` released.
    settled: std::collections::BTreeMap<Uuid, bool>,
    /// Who has used it: a person uses an invite once.
    #[serde(default)]
    users: std::collections::BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Created {
    terms: InviteTerms,
    inviter_id: String,
}

impl Invite {
    pub fn terms(&self) -> Option<&InviteTerms> {
        self.created.as_ref().map(|c| &c.terms)
    }

    pub fn uses(&self) -> u32 {
        self.uses
    }

    pub fn closed(&self) -> Option<Closed> {
        self.closed
    }

    fn decide_create(
        &self,
        terms: InviteTerms,
        inviter: Actor,
        at: DateTime<Utc>,
        roles: &RolePolicy,
    ) -> Result<Vec<InviteEvent>, InviteError> {
        if self.created.is_some() {
            return Err(InviteError::TokenTaken);
        }
        if !roles.is_configured(&terms.role) {
            return Err(InviteError::UnknownRole(terms.role));
        }
        if !roles.can_invite(&inviter.role, &terms.role) {
            return Err(InviteError::NotAllowedToInvite(terms.role));
        }
        if terms.max_uses == 0 {
            return Err(InviteError::InvalidMaxUses);
        }
        if is_expired(terms.expires_at, at) {
            return Err(InviteError::InvalidExpiry);
        }
        Ok(vec![InviteEvent::Created {
            terms,
            inviter_id: inviter.user_id,
            inviter_name: inviter.name,
            inviter_email: inviter.email,
            inviter_role: inviter.role,
            at,
        }])
    }

    /// The invite exists, is open, has not expired at `at` and has a use left.
    fn usable(&self, at: DateTime<Utc>) -> Result<&Created, InviteError> {
        let created = self.created.as_ref().ok_or(InviteError::NotFound)?;
        match self.closed {
            Some(Closed::Cancelled) => return Err(InviteError::Cancelled),
            Some(Closed::Rejected) => return Err(InviteError::Rejected),
            Some(Closed::Expired) => return Err(InviteError::Expired),
            None => {}
        }
        if is_expired(created.terms.expires_at, at) {
            return Err(InviteError::Expired);
        }
        // Held seats count: concurrent sign-ups never exceed `maxUses`.
        if created
            .terms
            .use_limit()
            .used_up(self.uses + self.seats.len() as u32)
        {
            return Err(InviteError::UsedUp);
        }
        Ok(created)
    }
}

fn check_email(terms: &InviteTerms, email: &str) -> Result<(), InviteError> {
    match &terms.email {
        Some(bound) if !super::same_email(bound, email) => Err(InviteError::EmailMismatch),
        _ => Ok(()),
    }
}

impl Decide for Invite {
    /// Decides a command against the current state: the events to append, or why not.
    fn decide(
        &self,
        command: InviteCommand,
        roles: &RolePolicy,
    ) -> Result<Vec<InviteEvent>, InviteError> {
        match command {
            InviteCommand::Create { terms, inviter, at } => {
                self.decide_create(terms, inviter, at, roles)
            }
            // Only an invite that exists keeps refusals: guesses are not its history.
            InviteCommand::RecordRefusal { refusal, at } => match self.created {
                Some(_) => Ok(vec![InviteEvent::Refused { refusal, at }]),
                None => Err(InviteError::NotFound),
            },
            InviteCommand::Activate { by, at } => {
                let created = self.usable(at)?;
                if let Some(user) = &by {
                    check_email(&created.terms, &user.email)?;
                }
                Ok(vec![InviteEvent::Activated {
                    by_user_id: by.map(|u| u.user_id),
                    at,
                }])
            }
            InviteCommand::Use {
                user,
                new_account,
                at,
            } => {
                let created = self.usable(at)?;
                check_email(&created.terms, &user.email)?;
                if user.user_id == created.inviter_id {
                    return Err(InviteError::OwnInvite);
                }
                // A new account cannot have used it: its sign-up is refused
                // as an existing account instead (USER_ALREADY_EXISTS).
                if !new_account && self.users.contains(&user.user_id) {
                    return Err(InviteError::AlreadyUsedByUser);
                }
                let role = &created.terms.role;
                if roles.compare(role, &user.role).is_lt() {
                    return Err(InviteError::WouldLowerRole);
                }
                Ok(vec![InviteEvent::Used {
                    invite_id: created.terms.invite_id,
                    inviter_id: created.inviter_id.clone(),
                    user_id: user.user_id,
                    user_email: user.email,
                    role_before: user.role,
                    role_after: role.clone(),
                    new_account,
                    at,
                    reservation_id: None,
                }])
            }
            InviteCommand::Cancel { by, at } => {
                let created = self.created.as_ref().ok_or(InviteError::NotFound)?;
                if by.user_id != created.inviter_id {
                    return Err(InviteError::NotCreator);
                }
                self.usable(at)?;
                Ok(vec![InviteEvent::Cancelled {
                    by_user_id: by.user_id,
                    at,
                }])
            }
            InviteCommand::Reject { by, at } => {
                let created = self.created.as_ref().ok_or(InviteError::NotFound)?;
                if created.terms.email.is_none() {
                    return Err(InviteError::NotPrivate);
                }
                check_email(&created.terms, &by.email).map_err(|_| InviteError::NotInvitee)?;
                self.usable(at)?;
                Ok(vec![InviteEvent::Rejected {
                    by_user_id: by.user_id,
                    at,
                }])
            }
            InviteCommand::Expire { at } => {
                let created = self.created.as_ref().ok_or(InviteError::NotFound)?;
                // Nothing left to expire: closed already, or every use taken.
                if self.closed.is_some() || created.terms.use_limit().used_up(self.uses) {
                    return Ok(vec![]);
                }
                if !is_expired(created.terms.expires_at, at) {
                    return Err(InviteError::NotExpired);
                }
                Ok(vec![InviteEvent::Expired { at }])
            }
            InviteCommand::Reserve {
                user,
                reservation_id,
                until,
                at,
            } => self.decide_reserve(user, reservation_id, until, at, roles),
            InviteCommand::ConfirmSeat { reservation_id, at } => {
                self.decide_confirm(reservation_id, at)
            }
            InviteCommand::ReleaseSeat {
                reservation_id,
                reason,
                at,
            } => self.decide_release(reservation_id, reason, at),
            InviteCommand::Resend { by, at } => {
                let created = self.created.as_ref().ok_or(InviteError::NotFound)?;
                if created.terms.email.is_none() {
                    return Err(InviteError::NotPrivate);
                }
                if by.user_id != created.inviter_id && !roles.is_admin(&by.role) {
                    return Err(InviteError::NotAllowedToResend);
                }
                self.usable(at)?;
                if created.terms.sealed_token.is_none() {
                    return Err(InviteError::TokenNotKept);
                }
                Ok(vec![InviteEvent::Resent {
                    by_user_id: by.user_id,
                    at,
                }])
            }
        }
    }
}

impl InviteEvent {
    /// How this event closes its invite, if it does.
    pub fn closing(&self) -> Option<Closed> {
        match self {
            InviteEvent::Cancelled { .. } => Some(Closed::Cancelled),
            InviteEvent::Rejected { .. } => Some(Closed::Rejected),
            InviteEvent::Expired { .. } => Some(Closed::Expired),
            InviteEvent::Created { .. }
            | InviteEvent::Activated { .. }
            | InviteEvent::Used { .. }
            | InviteEvent::Resent { .. }
            | InviteEvent::Refused { .. }
            | InviteEvent::SeatReserved { .. }
            | InviteEvent::SeatReleased { .. } => None,
        }
    }
}

impl Aggregate for Invite {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = InviteCommand;
    type Event = InviteEvent;
    type Error = InviteError;
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
        match event {
            InviteEvent::Created {
                terms, inviter_id, ..
            } => {
                self.created = Some(Created { terms, inviter_id });
            }
            InviteEvent::Activated { .. }
            | InviteEvent::Resent { .. }
            | InviteEvent::Refused { .. } => {}
            InviteEvent::Used {
                reservation_id,
                user_id,
                ..
            } => {
                self.uses += 1;
                self.users.insert(user_id);
                if let Some(id) = reservation_id {
                    self.seats.remove(&id);
                    self.settled.insert(id, true);
                }
            }
            InviteEvent::SeatReserved {
                reservation_id,
                user_id,
                user_email,
                user_name,
                role_before,
                until,
                ..
            } => {
                self.seats.insert(
                    reservation_id,
                    Seat {
                        user_id,
                        user_email,
                        user_name,
                        role_before,
                        until,
                    },
                );
            }
            InviteEvent::SeatReleased { reservation_id, .. } => {
                self.seats.remove(&reservation_id);
                self.settled.insert(reservation_id, false);
            }
            closing @ (InviteEvent::Cancelled { .. }
            | InviteEvent::Rejected { .. }
            | InviteEvent::Expired { .. }) => self.closed = closing.closing(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<Invite>;

    fn every_event() -> Vec<InviteEvent> {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let by = || "user-1".to_string();
        vec![
            InviteEvent::Activated {
                by_user_id: None,
                at,
            },
            InviteEvent::Cancelled {
                by_user_id: by(),
                at,
            },
            InviteEvent::Rejected {
                by_user_id: by(),
                at,
            },
            InviteEvent::Expired { at },
            InviteEvent::Resent {
                by_user_id: by(),
                at,
            },
            InviteEvent::Refused {
                refusal: Refusal {
                    attempt: "use".into(),
                    reason: "INVITE_EXPIRED".into(),
                    user_id: None,
                    email: None,
                    client_address: None,
                    user_agent: None,
                },
                at,
            },
            InviteEvent::SeatReserved {
                reservation_id: Uuid::nil(),
                user_id: by(),
                user_email: "user@example.com".into(),
                user_name: "User".into(),
                role_before: "user".into(),
                until: at,
                at,
            },
            InviteEvent::SeatReleased {
                reservation_id: Uuid::nil(),
                reason: "user_absent".into(),
                at,
            },
        ]
    }

    #[test]
    fn the_closing_list_names_exactly_the_events_that_close() {
        for event in every_event() {
            assert_eq!(
                event.closing().is_some(),
                crate::domain::closing::CLOSING_EVENTS.contains(&event.event_type().as_str()),
                "{}",
                event.event_type()
            );
        }
        assert_eq!(
            crate::domain::closing::closing_events_sql(),
            "'Cancelled', 'Rejected', 'Expired'"
        );
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    fn actor(id: &str, email: &str, role: &str) -> Actor {
        Actor {
            user_id: id.into(),
            email: email.into(),
            name: format!("{id} name"),
            role: role.into(),
        }
    }

    fn admin() -> Actor {
        actor("admin-1", "admin@example.com", "admin")
    }

    fn terms(email: Option<&str>, max_uses: u32) -> InviteTerms {
        InviteTerms {
            invite_id: Uuid::nil(),
            token_type: TokenType::Token,
            role: "admin".into(),
            email: email.map(str::to_string),
            invitee_id: None,
            invitee_name: None,
            new_account: true,
            max_uses,
            infinity_max_uses: false,
            expires_at: t0() + Duration::hours(1),
            redirect_to_sign_up: "/auth/sign-up".into(),
            redirect_to_sign_in: "/auth/sign-in".into(),
            redirect_to_after_upgrade: "/auth/invited".into(),
            share_inviter_name: true,
            sender_response_redirect: "signUp".into(),
            sealed_token: email.map(|_| "sealed".to_string()),
            custom_invite_url: None,
        }
    }

    fn created(email: Option<&str>, max_uses: u32) -> InviteEvent {
        let inviter = admin();
        InviteEvent::Created {
            terms: terms(email, max_uses),
            inviter_id: inviter.user_id,
            inviter_name: inviter.name,
            inviter_email: inviter.email,
            inviter_role: inviter.role,
            at: t0(),
        }
    }

    fn used(user: &Actor) -> InviteEvent {
        InviteEvent::Used {
            invite_id: Uuid::nil(),
            inviter_id: "admin-1".into(),
            user_id: user.user_id.clone(),
            user_email: user.email.clone(),
            role_before: user.role.clone(),
            role_after: "admin".into(),
            new_account: false,
            at: t0(),
            reservation_id: None,
        }
    }

    fn use_by(user: &Actor, at: DateTime<Utc>) -> InviteCommand {
        InviteCommand::Use {
            user: user.clone(),
            new_account: false,
            at,
        }
    }

    #[test]
    fn a_person_uses_an_invite_once_even_with_seats_left() {
        let carol = actor("carol", "carol@example.com", "admin");
        Given::with(RolePolicy::default())
            .given(vec![created(None, 3), used(&carol)])
            .when(use_by(&carol, t0()))
            .then_expect_error(InviteError::AlreadyUsedByUser);
        let dave = actor("dave", "dave@example.com", "user");
        Given::with(RolePolicy::default())
            .given(vec![created(None, 3), used(&carol)])
            .when(use_by(&dave, t0()))
            .then_expect_events(vec![used(&dave)]);
    }

    #[test]
    fn admin_creates_an_invite() {
        Given::with(RolePolicy::default())
            .given_no_previous_events()
            .when(InviteCommand::Create {
                terms: terms(None, 1),
                inviter: admin(),
                at: t0(),
            })
            .then_expect_events(vec![created(None, 1)]);
    }

    #[test]
    fn default_role_cannot_invite_and_nobody_invites_above_their_role() {
        let mut user_terms = terms(None, 1);
        user_terms.role = "user".into();
        Given::with(RolePolicy::default())
            .given_no_previous_events()
            .when(InviteCommand::Create {
                terms: user_terms,
                inviter: actor("u", "u@x.com", "user"),
                at: t0(),
            })
            .then_expect_error(InviteError::NotAllowedToInvite("user".into()));
        let owner_policy = RolePolicy::new(
            vec!["user".into(), "admin".into(), "owner".into()],
            "user",
            "admin",
        )
        .unwrap();
        let mut owner_terms = terms(None, 1);
        owner_terms.role = "owner".into();
        Given::with(owner_policy)
            .given_no_previous_events()
            .when(InviteCommand::Create {
                terms: owner_terms,
                inviter: admin(),
                at: t0(),
            })
            .then_expect_error(InviteError::NotAllowedToInvite("owner".into()));
    }

    #[test]
    fn unknown_role_zero_uses_and_past_expiry_are_refused() {
        let mut bad_role = terms(None, 1);
        bad_role.role = "wizard".into();
        Given::with(RolePolicy::default())
            .given_no_previous_events()
            .when(InviteCommand::Create {
                terms: bad_role,
                inviter: admin(),
                at: t0(),
            })
            .then_expect_error(InviteError::UnknownRole("wizard".into()));
        Given::with(RolePolicy::default())
            .given_no_previous_events()
            .when(InviteCommand::Create {
                terms: terms(None, 0),
                inviter: admin(),
                at: t0(),
            })
            .then_expect_error(InviteError::InvalidMaxUses);
        Given::with(RolePolicy::default())
            .given_no_previous_events()
            .when(InviteCommand::Create {
                terms: terms(None, 1),
                inviter: admin(),
                at: t0() + Duration::hours(2),
            })
            .then_expect_error(InviteError::InvalidExpiry);
    }

    #[test]
    fn a_token_cannot_be_created_twice() {
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1)])
            .when(InviteCommand::Create {
                terms: terms(None, 1),
                inviter: admin(),
                at: t0(),
            })
            .then_expect_error(InviteError::TokenTaken);
    }

    #[test]
    fn use_records_role_before_and_after() {
        let bob = actor("bob", "bob@x.com", "user");
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1)])
            .when(use_by(&bob, t0()))
            .then_expect_events(vec![InviteEvent::Used {
                invite_id: Uuid::nil(),
                inviter_id: "admin-1".into(),
                user_id: "bob".into(),
                user_email: "bob@x.com".into(),
                role_before: "user".into(),
                role_after: "admin".into(),
                new_account: false,
                at: t0(),
                reservation_id: None,
            }]);
    }

    #[test]
    fn max_uses_is_enforced() {
        let bob = actor("bob", "bob@x.com", "user");
        let carol = actor("carol", "carol@x.com", "user");
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1), used(&bob)])
            .when(use_by(&carol, t0()))
            .then_expect_error(InviteError::UsedUp);
    }

    #[test]
    fn an_unlimited_invite_never_runs_out_of_seats() {
        let unlimited = InviteEvent::Created {
            terms: InviteTerms {
                infinity_max_uses: true,
                ..terms(None, 1)
            },
            inviter_id: admin().user_id,
            inviter_name: admin().name,
            inviter_email: admin().email,
            inviter_role: admin().role,
            at: t0(),
        };
        let bob = actor("bob", "bob@x.com", "user");
        let carol = actor("carol", "carol@x.com", "user");
        let dave = actor("dave", "dave@x.com", "user");
        Given::with(RolePolicy::default())
            .given(vec![unlimited.clone(), used(&bob), used(&carol)])
            .when(use_by(&dave, t0()))
            .then_expect_events(vec![used(&dave)]);
        // Used many times over, it still expires at its time.
        Given::with(RolePolicy::default())
            .given(vec![unlimited, used(&bob), used(&carol)])
            .when(InviteCommand::Expire {
                at: t0() + Duration::hours(1),
            })
            .then_expect_events(vec![InviteEvent::Expired {
                at: t0() + Duration::hours(1),
            }]);
    }

    #[test]
    fn an_expired_invite_cannot_be_used_or_activated() {
        let bob = actor("bob", "bob@x.com", "user");
        let later = t0() + Duration::hours(1);
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1)])
            .when(use_by(&bob, later))
            .then_expect_error(InviteError::Expired);
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1)])
            .when(InviteCommand::Activate {
                by: None,
                at: later,
            })
            .then_expect_error(InviteError::Expired);
    }

    #[test]
    fn expire_is_idempotent_and_only_after_the_time() {
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1)])
            .when(InviteCommand::Expire { at: t0() })
            .then_expect_error(InviteError::NotExpired);
        let later = t0() + Duration::hours(2);
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1)])
            .when(InviteCommand::Expire { at: later })
            .then_expect_events(vec![InviteEvent::Expired { at: later }]);
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1), InviteEvent::Expired { at: later }])
            .when(InviteCommand::Expire { at: later })
            .then_expect_events(vec![]);
    }

    #[test]
    fn email_binding_ignores_case_and_refuses_others() {
        let bob = actor("bob", "Bob@X.com", "user");
        Given::with(RolePolicy::default())
            .given(vec![created(Some("bob@x.com"), 1)])
            .when(use_by(&bob, t0()))
            .then_expect_events(vec![used(&bob)]);
        let eve = actor("eve", "eve@x.com", "user");
        Given::with(RolePolicy::default())
            .given(vec![created(Some("bob@x.com"), 1)])
            .when(use_by(&eve, t0()))
            .then_expect_error(InviteError::EmailMismatch);
    }

    #[test]
    fn the_inviter_cannot_use_their_own_invite() {
        Given::with(RolePolicy::default())
            .given(vec![created(None, 5)])
            .when(use_by(&admin(), t0()))
            .then_expect_error(InviteError::OwnInvite);
    }

    #[test]
    fn an_invite_never_lowers_a_role() {
        let policy = RolePolicy::new(
            vec!["user".into(), "admin".into(), "owner".into()],
            "user",
            "admin",
        )
        .unwrap();
        let owner = actor("olga", "olga@x.com", "owner");
        Given::with(policy)
            .given(vec![created(None, 1)])
            .when(use_by(&owner, t0()))
            .then_expect_error(InviteError::WouldLowerRole);
    }

    #[test]
    fn only_the_creator_cancels_and_nothing_is_used_after() {
        let bob = actor("bob", "bob@x.com", "admin");
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1)])
            .when(InviteCommand::Cancel { by: bob, at: t0() })
            .then_expect_error(InviteError::NotCreator);
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1)])
            .when(InviteCommand::Cancel {
                by: admin(),
                at: t0(),
            })
            .then_expect_events(vec![InviteEvent::Cancelled {
                by_user_id: "admin-1".into(),
                at: t0(),
            }]);
        let carol = actor("carol", "carol@x.com", "user");
        Given::with(RolePolicy::default())
            .given(vec![
                created(None, 1),
                InviteEvent::Cancelled {
                    by_user_id: "admin-1".into(),
                    at: t0(),
                },
            ])
            .when(use_by(&carol, t0()))
            .then_expect_error(InviteError::Cancelled);
    }

    #[test]
    fn only_the_invitee_rejects_a_private_invite() {
        let bob = actor("bob", "BOB@x.com", "user");
        let eve = actor("eve", "eve@x.com", "user");
        Given::with(RolePolicy::default())
            .given(vec![created(Some("bob@x.com"), 1)])
            .when(InviteCommand::Reject { by: eve, at: t0() })
            .then_expect_error(InviteError::NotInvitee);
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1)])
            .when(InviteCommand::Reject {
                by: bob.clone(),
                at: t0(),
            })
            .then_expect_error(InviteError::NotPrivate);
        Given::with(RolePolicy::default())
            .given(vec![created(Some("bob@x.com"), 1)])
            .when(InviteCommand::Reject {
                by: bob.clone(),
                at: t0(),
            })
            .then_expect_events(vec![InviteEvent::Rejected {
                by_user_id: "bob".into(),
                at: t0(),
            }]);
        Given::with(RolePolicy::default())
            .given(vec![
                created(Some("bob@x.com"), 1),
                InviteEvent::Rejected {
                    by_user_id: "bob".into(),
                    at: t0(),
                },
            ])
            .when(use_by(&bob, t0()))
            .then_expect_error(InviteError::Rejected);
    }

    #[test]
    fn expire_does_nothing_to_a_closed_or_used_up_invite() {
        let later = t0() + Duration::hours(2);
        let cancelled = InviteEvent::Cancelled {
            by_user_id: "admin-1".into(),
            at: t0(),
        };
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1), cancelled])
            .when(InviteCommand::Expire { at: later })
            .then_expect_events(vec![]);
        let bob = actor("bob", "bob@x.com", "user");
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1), used(&bob)])
            .when(InviteCommand::Expire { at: later })
            .then_expect_events(vec![]);
    }

    #[test]
    fn the_creator_or_an_admin_resends_a_private_open_invite() {
        let other_admin = actor("admin-2", "root@x.com", "admin");
        Given::with(RolePolicy::default())
            .given(vec![created(Some("bob@x.com"), 1)])
            .when(InviteCommand::Resend {
                by: other_admin,
                at: t0(),
            })
            .then_expect_events(vec![InviteEvent::Resent {
                by_user_id: "admin-2".into(),
                at: t0(),
            }]);
        Given::with(RolePolicy::default())
            .given(vec![created(Some("bob@x.com"), 1)])
            .when(InviteCommand::Resend {
                by: actor("carol", "carol@x.com", "user"),
                at: t0(),
            })
            .then_expect_error(InviteError::NotAllowedToResend);
        Given::with(RolePolicy::default())
            .given(vec![created(None, 1)])
            .when(InviteCommand::Resend {
                by: admin(),
                at: t0(),
            })
            .then_expect_error(InviteError::NotPrivate);
        Given::with(RolePolicy::default())
            .given(vec![created(Some("bob@x.com"), 1)])
            .when(InviteCommand::Resend {
                by: admin(),
                at: t0() + Duration::hours(1),
            })
            .then_expect_error(InviteError::Expired);
    }

    #[test]
    fn events_written_before_sealing_still_decode() {
        let json = serde_json::json!({ "Created": {
            "terms": {
                "invite_id": Uuid::nil(), "token_type": "token", "role": "admin",
                "email": "bob@x.com", "new_account": true, "max_uses": 1,
                "expires_at": t0() + Duration::hours(1),
                "redirect_to_sign_up": "/a", "redirect_to_sign_in": "/b",
                "redirect_to_after_upgrade": "/c", "share_inviter_name": true,
                "sender_response_redirect": "signUp"
            },
            "inviter_id": "admin-1", "inviter_name": "A", "inviter_email": "a@x.com",
            "inviter_role": "admin", "at": t0()
        }});
        let InviteEvent::Created { terms, .. } = serde_json::from_value(json).unwrap() else {
            panic!("a Created event");
        };
        assert_eq!(terms.sealed_token, None);
    }

    #[test]
    fn unknown_invites_are_not_found() {
        Given::with(RolePolicy::default())
            .given_no_previous_events()
            .when(InviteCommand::Activate { by: None, at: t0() })
            .then_expect_error(InviteError::NotFound);
    }
}
