//! The User aggregate: an account's registration and every role an admin sets.
//! Roles granted by invites are `Used` events of the Invite aggregate; a user's
//! current role is the latest of these in the ledger's global order.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::decide::Decide;
use super::roles::RolePolicy;

pub const AGGREGATE_TYPE: &str = "user";

/// A user's id is derived from their normalized email, so two sign-ups with the
/// same email meet on the same aggregate and the store lets only one register.
pub fn user_id_for_email(normalized_email: &str) -> String {
    const NAMESPACE: Uuid = Uuid::from_u128(0x5b1e_7a2c_8c4d_4e0f_9a6b_2d3c_4e5f_6a7b);
    Uuid::new_v5(&NAMESPACE, normalized_email.as_bytes()).to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserCommand {
    Register {
        email: String,
        name: String,
        role: String,
        /// The operator vouches for the address (an account made by hand).
        email_verified: bool,
        at: DateTime<Utc>,
    },
    SetRole {
        role: String,
        /// The target's current role as the ledger's read model shows it.
        current_role: String,
        by_user_id: String,
        by_role: String,
        at: DateTime<Utc>,
    },
    /// Someone asked for a reset link for this account (the token is in the
    /// `password_reset` table, never in the log).
    RequestPasswordReset { at: DateTime<Utc> },
    /// The password was set anew; its hash goes to the `password` table.
    SetPassword {
        how: PasswordChange,
        by_user_id: String,
        at: DateTime<Utc>,
    },
    /// Sessions were ended.
    RevokeSessions {
        which: RevokedSessions,
        by_user_id: String,
        at: DateTime<Utc>,
    },
    /// A verification link was made for this account (the token is in the
    /// `email_verification` table, never in the log).
    RequestVerificationEmail {
        purpose: VerificationPurpose,
        at: DateTime<Utc>,
    },
    /// The account's address was proven by a link sent to it.
    VerifyEmail {
        by_user_id: String,
        at: DateTime<Utc>,
    },
    /// The account moves to an address a link sent to it proved.
    ChangeEmail {
        email: String,
        by_user_id: String,
        at: DateTime<Utc>,
    },
    /// The user's name and picture, as they are after the change.
    UpdateProfile {
        name: String,
        image: Option<String>,
        at: DateTime<Utc>,
    },
    /// An admin bans the user (their sessions end; sign-in is refused).
    Ban {
        reason: String,
        expires_at: Option<DateTime<Utc>>,
        by_user_id: String,
        by_role: String,
        at: DateTime<Utc>,
    },
    Unban {
        by_user_id: String,
        by_role: String,
        at: DateTime<Utc>,
    },
    /// Record a person whose account lives in a Better Auth server beside the
    /// ledger, the first time the ledger hears of them (nothing if it knows them).
    Introduce {
        email: String,
        name: String,
        role: String,
        at: DateTime<Utc>,
    },
    /// Erase the person's personal data (their key is deleted with the event).
    Erase {
        by_user_id: String,
        /// The person's key exists: something of theirs is readable now.
        key_exists: bool,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserEvent {
    /// No secret: the password hash is in the `password` table. Events written
    /// before that table existed also hold a `password_hash`, which is not
    /// read (unknown fields are skipped) and stays in the log.
    Registered {
        email: String,
        name: String,
        role: String,
        /// Registered with its address verified (`invite-ledger user create`);
        /// written only when true, so other events read as they always did.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        email_verified: bool,
        at: DateTime<Utc>,
    },
    RoleSet {
        role_before: String,
        role: String,
        by_user_id: String,
        at: DateTime<Utc>,
    },
    /// A reset link was asked for (and emailed, if the account exists).
    PasswordResetRequested { at: DateTime<Utc> },
    /// The password was set anew, by a reset link or by its holder; who and
    /// when, never the hash.
    PasswordSet {
        how: PasswordChange,
        by_user_id: String,
        at: DateTime<Utc>,
    },
    /// Sessions were ended: all of them, or all but the one that asked.
    SessionsRevoked {
        which: RevokedSessions,
        by_user_id: String,
        at: DateTime<Utc>,
    },
    /// A verification link was emailed (to the account's address, or to the
    /// new one of a change); the token never is in the log.
    VerificationEmailRequested {
        purpose: VerificationPurpose,
        at: DateTime<Utc>,
    },
    /// The account's address was proven, by who opened the link.
    EmailVerified {
        by_user_id: String,
        at: DateTime<Utc>,
    },
    /// The account moved to a new address (sealed, as personal data), proven
    /// by a link sent to it.
    EmailChanged {
        email: String,
        by_user_id: String,
        at: DateTime<Utc>,
    },
    /// The user changed their name or picture (both sealed, as personal data).
    ProfileUpdated {
        name: String,
        image: Option<String>,
        at: DateTime<Utc>,
    },
    /// An admin banned the user, for a reason, until a time or for good.
    Banned {
        reason: String,
        expires_at: Option<DateTime<Utc>>,
        by_user_id: String,
        at: DateTime<Utc>,
    },
    Unbanned {
        by_user_id: String,
        at: DateTime<Utc>,
    },
    /// A person whose account lives in a Better Auth server (keyed by its user
    /// id), as the ledger first heard of them: email and name sealed as every
    /// personal field, no password (Better Auth keeps it).
    Introduced {
        email: String,
        name: String,
        role: String,
        at: DateTime<Utc>,
    },
    /// The person's key was deleted: their emails and names in the log read as
    /// `[erased]` from now on. Holds who erased and when, nothing personal.
    /// The aggregate is the person's user id, with or without an account.
    Erased {
        by_user_id: String,
        at: DateTime<Utc>,
    },
}

/// How a password was set anew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordChange {
    /// By a reset link sent to the account's email.
    Reset,
    /// By the signed-in holder, who gave the current one.
    Changed,
}

/// What a verification link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationPurpose {
    /// To prove the account's own address.
    Verify,
    /// To prove a new address the account asked to move to.
    ChangeEmail,
}

/// Which sessions a revocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokedSessions {
    All,
    AllButCurrent,
    One,
}

impl DomainEvent for UserEvent {
    fn event_type(&self) -> String {
        match self {
            UserEvent::Registered { .. } => "Registered",
            UserEvent::RoleSet { .. } => "RoleSet",
            UserEvent::Erased { .. } => "Erased",
            UserEvent::PasswordResetRequested { .. } => "PasswordResetRequested",
            UserEvent::PasswordSet { .. } => "PasswordSet",
            UserEvent::SessionsRevoked { .. } => "SessionsRevoked",
            UserEvent::ProfileUpdated { .. } => "ProfileUpdated",
            UserEvent::VerificationEmailRequested { .. } => "VerificationEmailRequested",
            UserEvent::EmailVerified { .. } => "EmailVerified",
            UserEvent::EmailChanged { .. } => "EmailChanged",
            UserEvent::Banned { .. } => "Banned",
            UserEvent::Unbanned { .. } => "Unbanned",
            UserEvent::Introduced { .. } => "Introduced",
        }
        .to_string()
    }

    /// 2: personal fields are sealed in the log (`ledger::personal`).
    fn event_version(&self) -> String {
        "2".to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("User already exists. Use another email.")]
    AlreadyExists,
    #[error("User not found")]
    NotFound,
    #[error("Role `{0}` is not configured")]
    UnknownRole(String),
    #[error("Only an admin can set roles, and not above their own")]
    NotAllowed,
}

impl UserError {
    pub fn code(&self) -> &'static str {
        match self {
            UserError::AlreadyExists => "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
            UserError::NotFound => "USER_NOT_FOUND",
            UserError::UnknownRole(_) => "ROLE_NOT_CONFIGURED",
            UserError::NotAllowed => "YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    registered: bool,
    erased: bool,
}

impl User {
    /// Changes to an account need one that exists and is not erased.
    fn live(&self) -> Result<(), UserError> {
        if self.registered && !self.erased {
            Ok(())
        } else {
            Err(UserError::NotFound)
        }
    }
}

impl Decide for User {
    /// Decides a command against the current state: the events to append, or why not.
    fn decide(
        &self,
        command: UserCommand,
        roles: &RolePolicy,
    ) -> Result<Vec<UserEvent>, UserError> {
        match command {
            UserCommand::Register {
                email,
                name,
                role,
                email_verified,
                at,
            } => {
                // An erased account's email may sign up again, as a new person.
                if self.registered && !self.erased {
                    return Err(UserError::AlreadyExists);
                }
                if !roles.is_configured(&role) {
                    return Err(UserError::UnknownRole(role));
                }
                Ok(vec![UserEvent::Registered {
                    email,
                    name,
                    role,
                    email_verified,
                    at,
                }])
            }
            UserCommand::SetRole {
                role,
                current_role,
                by_user_id,
                by_role,
                at,
            } => {
                if !self.registered {
                    return Err(UserError::NotFound);
                }
                if !roles.is_configured(&role) {
                    return Err(UserError::UnknownRole(role));
                }
                let above_setter = |r: &str| roles.compare(r, &by_role).is_gt();
                if !roles.is_admin(&by_role) || above_setter(&role) || above_setter(&current_role) {
                    return Err(UserError::NotAllowed);
                }
                Ok(vec![UserEvent::RoleSet {
                    role_before: current_role,
                    role,
                    by_user_id,
                    at,
                }])
            }
            UserCommand::RequestPasswordReset { at } => {
                self.live()?;
                Ok(vec![UserEvent::PasswordResetRequested { at }])
            }
            UserCommand::SetPassword {
                how,
                by_user_id,
                at,
            } => {
                self.live()?;
                Ok(vec![UserEvent::PasswordSet {
                    how,
                    by_user_id,
                    at,
                }])
            }
            UserCommand::RevokeSessions {
                which,
                by_user_id,
                at,
            } => {
                self.live()?;
                Ok(vec![UserEvent::SessionsRevoked {
                    which,
                    by_user_id,
                    at,
                }])
            }
            UserCommand::RequestVerificationEmail { purpose, at } => {
                self.live()?;
                Ok(vec![UserEvent::VerificationEmailRequested { purpose, at }])
            }
            UserCommand::VerifyEmail { by_user_id, at } => {
                self.live()?;
                Ok(vec![UserEvent::EmailVerified { by_user_id, at }])
            }
            UserCommand::ChangeEmail {
                email,
                by_user_id,
                at,
            } => {
                self.live()?;
                Ok(vec![UserEvent::EmailChanged {
                    email,
                    by_user_id,
                    at,
                }])
            }
            UserCommand::UpdateProfile { name, image, at } => {
                self.live()?;
                Ok(vec![UserEvent::ProfileUpdated { name, image, at }])
            }
            UserCommand::Ban {
                reason,
                expires_at,
                by_user_id,
                by_role,
                at,
            } => {
                self.live()?;
                if !roles.is_admin(&by_role) {
                    return Err(UserError::NotAllowed);
                }
                Ok(vec![UserEvent::Banned {
                    reason,
                    expires_at,
                    by_user_id,
                    at,
                }])
            }
            UserCommand::Unban {
                by_user_id,
                by_role,
                at,
            } => {
                self.live()?;
                if !roles.is_admin(&by_role) {
                    return Err(UserError::NotAllowed);
                }
                Ok(vec![UserEvent::Unbanned { by_user_id, at }])
            }
            UserCommand::Introduce {
                email,
                name,
                role,
                at,
            } => {
                if self.registered && !self.erased {
                    return Ok(vec![]);
                }
                if !roles.is_configured(&role) {
                    return Err(UserError::UnknownRole(role));
                }
                Ok(vec![UserEvent::Introduced {
                    email,
                    name,
                    role,
                    at,
                }])
            }
            // Erasing twice records nothing the second time, unless the person
            // came back since (a new key: new data to erase).
            UserCommand::Erase {
                by_user_id,
                key_exists,
                at,
            } => {
                if self.erased && !key_exists {
                    return Ok(vec![]);
                }
                Ok(vec![UserEvent::Erased { by_user_id, at }])
            }
        }
    }
}

impl Aggregate for User {
    const TYPE: &'static str = AGGREGATE_TYPE;
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;
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
            UserEvent::Registered { .. } | UserEvent::Introduced { .. } => {
                self.registered = true;
                self.erased = false;
            }
            UserEvent::Erased { .. } => self.erased = true,
            UserEvent::RoleSet { .. }
            | UserEvent::PasswordResetRequested { .. }
            | UserEvent::PasswordSet { .. }
            | UserEvent::SessionsRevoked { .. }
            | UserEvent::ProfileUpdated { .. }
            | UserEvent::VerificationEmailRequested { .. }
            | UserEvent::EmailVerified { .. }
            | UserEvent::EmailChanged { .. }
            | UserEvent::Banned { .. }
            | UserEvent::Unbanned { .. } => {}
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

    fn registered() -> UserEvent {
        UserEvent::Registered {
            email: "a@x.com".into(),
            name: "A".into(),
            role: "user".into(),
            email_verified: false,
            at: t0(),
        }
    }

    fn set_role(role: &str, by_role: &str) -> UserCommand {
        UserCommand::SetRole {
            role: role.into(),
            current_role: "user".into(),
            by_user_id: "boss".into(),
            by_role: by_role.into(),
            at: t0(),
        }
    }

    #[test]
    fn an_email_registers_once() {
        TestFramework::<User>::with(RolePolicy::default())
            .given(vec![registered()])
            .when(UserCommand::Register {
                email: "a@x.com".into(),
                name: "A".into(),
                role: "user".into(),
                email_verified: false,
                at: t0(),
            })
            .then_expect_error(UserError::AlreadyExists);
    }

    #[test]
    fn only_admins_set_roles_and_not_above_their_own() {
        TestFramework::<User>::with(RolePolicy::default())
            .given(vec![registered()])
            .when(set_role("admin", "user"))
            .then_expect_error(UserError::NotAllowed);
        let three = RolePolicy::new(
            vec!["user".into(), "admin".into(), "owner".into()],
            "user",
            "admin",
        )
        .unwrap();
        TestFramework::<User>::with(three)
            .given(vec![registered()])
            .when(set_role("owner", "admin"))
            .then_expect_error(UserError::NotAllowed);
        TestFramework::<User>::with(RolePolicy::default())
            .given(vec![registered()])
            .when(set_role("admin", "admin"))
            .then_expect_events(vec![UserEvent::RoleSet {
                role_before: "user".into(),
                role: "admin".into(),
                by_user_id: "boss".into(),
                at: t0(),
            }]);
    }

    #[test]
    fn erasing_twice_records_one_erasure() {
        let erase = |key_exists| UserCommand::Erase {
            by_user_id: "boss".into(),
            key_exists,
            at: t0(),
        };
        let erased = UserEvent::Erased {
            by_user_id: "boss".into(),
            at: t0(),
        };
        TestFramework::<User>::with(RolePolicy::default())
            .given(vec![registered()])
            .when(erase(true))
            .then_expect_events(vec![erased.clone()]);
        TestFramework::<User>::with(RolePolicy::default())
            .given(vec![registered(), erased.clone()])
            .when(erase(false))
            .then_expect_events(vec![]);
        TestFramework::<User>::with(RolePolicy::default())
            .given(vec![registered(), erased])
            .when(UserCommand::Register {
                email: "a@x.com".into(),
                name: "A".into(),
                role: "user".into(),
                email_verified: false,
                at: t0(),
            })
            .then_expect_events(vec![registered()]);
    }

    #[test]
    fn ids_follow_the_normalized_email() {
        assert_eq!(user_id_for_email("a@x.com"), user_id_for_email("a@x.com"));
        assert_ne!(user_id_for_email("a@x.com"), user_id_for_email("b@x.com"));
    }
}
