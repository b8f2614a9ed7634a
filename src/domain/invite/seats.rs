//! Seats for sign-ups a Better Auth server writes itself (the companion
//! plugin): a seat is held before Better Auth writes the user, inside the
//! invite's aggregate, so held seats count against `maxUses` and concurrent
//! sign-ups race on the aggregate's next sequence like uses do (decision 7).
//! The seat becomes a use when the sign-up commits, or is given back in a
//! recorded event when it never does.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{check_email, Actor, Invite, InviteError, InviteEvent};
use crate::domain::roles::RolePolicy;

/// A held seat: who it is for and until when it is held without question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    pub user_id: String,
    pub user_email: String,
    pub user_name: String,
    pub role_before: String,
    pub until: DateTime<Utc>,
}

impl Invite {
    /// The seat held under `reservation_id`, if it is still open.
    pub fn seat(&self, reservation_id: &Uuid) -> Option<&Seat> {
        self.seats.get(reservation_id)
    }

    /// Whether the reservation was confirmed (`Some(true)`) or released.
    pub fn settled(&self, reservation_id: &Uuid) -> Option<bool> {
        self.settled.get(reservation_id).copied()
    }

    /// The same rules as a use: open, not expired, a seat left, the right
    /// email, not the inviter's own, never a lower role.
    pub(super) fn decide_reserve(
        &self,
        user: Actor,
        reservation_id: Uuid,
        until: DateTime<Utc>,
        at: DateTime<Utc>,
        roles: &RolePolicy,
    ) -> Result<Vec<InviteEvent>, InviteError> {
        // A retried reserve of the same reservation holds nothing more; a
        // released one is not held again under its id.
        match self.settled.get(&reservation_id) {
            Some(false) => return Err(InviteError::ReservationReleased),
            Some(true) => return Ok(vec![]),
            None if self.seats.contains_key(&reservation_id) => return Ok(vec![]),
            None => {}
        }
        let created = self.usable(at)?;
        check_email(&created.terms, &user.email)?;
        if user.user_id == created.inviter_id {
            return Err(InviteError::OwnInvite);
        }
        if roles.compare(&created.terms.role, &user.role).is_lt() {
            return Err(InviteError::WouldLowerRole);
        }
        Ok(vec![InviteEvent::SeatReserved {
            reservation_id,
            user_id: user.user_id,
            user_email: user.email,
            user_name: user.name,
            role_before: user.role,
            until,
            at,
        }])
    }

    /// The held seat becomes a use, whatever happened to the invite since (the
    /// seat was taken while it was open). Confirming twice records one use.
    pub(super) fn decide_confirm(
        &self,
        reservation_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Vec<InviteEvent>, InviteError> {
        let created = self.created.as_ref().ok_or(InviteError::NotFound)?;
        match self.settled.get(&reservation_id) {
            Some(true) => return Ok(vec![]),
            Some(false) => return Err(InviteError::ReservationReleased),
            None => {}
        }
        let seat = self
            .seats
            .get(&reservation_id)
            .ok_or(InviteError::ReservationNotFound)?;
        Ok(vec![InviteEvent::Used {
            invite_id: created.terms.invite_id,
            inviter_id: created.inviter_id.clone(),
            user_id: seat.user_id.clone(),
            user_email: seat.user_email.clone(),
            role_before: seat.role_before.clone(),
            role_after: created.terms.role.clone(),
            new_account: true,
            at,
            reservation_id: Some(reservation_id),
        }])
    }

    /// Gives the seat back; releasing a settled reservation records nothing.
    pub(super) fn decide_release(
        &self,
        reservation_id: Uuid,
        reason: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<InviteEvent>, InviteError> {
        if self.created.is_none() {
            return Err(InviteError::NotFound);
        }
        if self.settled.contains_key(&reservation_id) {
            return Ok(vec![]);
        }
        if !self.seats.contains_key(&reservation_id) {
            return Err(InviteError::ReservationNotFound);
        }
        Ok(vec![InviteEvent::SeatReleased {
            reservation_id,
            reason,
            at,
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::super::InviteCommand;
    use super::*;
    use crate::domain::invite::InviteTerms;
    use crate::domain::token::TokenType;
    use chrono::{Duration, TimeZone};
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<Invite>;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    fn created(max_uses: u32) -> InviteEvent {
        InviteEvent::Created {
            terms: InviteTerms {
                invite_id: Uuid::nil(),
                token_type: TokenType::Token,
                role: "admin".into(),
                email: None,
                invitee_id: None,
                invitee_name: None,
                new_account: true,
                max_uses,
                infinity_max_uses: false,
                expires_at: t0() + Duration::hours(1),
                redirect_to_sign_up: "/up".into(),
                redirect_to_sign_in: "/in".into(),
                redirect_to_after_upgrade: "/after".into(),
                share_inviter_name: true,
                sender_response_redirect: "signUp".into(),
                sealed_token: None,
                custom_invite_url: None,
            },
            inviter_id: "admin-1".into(),
            inviter_name: "A".into(),
            inviter_email: "a@x.com".into(),
            inviter_role: "admin".into(),
            at: t0(),
        }
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn reserved(n: u128) -> InviteEvent {
        InviteEvent::SeatReserved {
            reservation_id: id(n),
            user_id: format!("ba-{n}"),
            user_email: format!("u{n}@x.com"),
            user_name: format!("U{n}"),
            role_before: "user".into(),
            until: t0() + Duration::seconds(30),
            at: t0(),
        }
    }

    fn reserve(n: u128) -> InviteCommand {
        InviteCommand::Reserve {
            user: Actor {
                user_id: format!("ba-{n}"),
                email: format!("u{n}@x.com"),
                name: format!("U{n}"),
                role: "user".into(),
            },
            reservation_id: id(n),
            until: t0() + Duration::seconds(30),
            at: t0(),
        }
    }

    #[test]
    fn held_seats_count_against_max_uses() {
        Given::with(RolePolicy::default())
            .given(vec![created(2), reserved(1)])
            .when(reserve(2))
            .then_expect_events(vec![reserved(2)]);
        Given::with(RolePolicy::default())
            .given(vec![created(2), reserved(1), reserved(2)])
            .when(reserve(3))
            .then_expect_error(InviteError::UsedUp);
    }

    #[test]
    fn a_released_seat_is_free_again_and_cannot_be_confirmed() {
        let released = InviteEvent::SeatReleased {
            reservation_id: id(1),
            reason: "user_absent".into(),
            at: t0(),
        };
        Given::with(RolePolicy::default())
            .given(vec![created(1), reserved(1), released.clone()])
            .when(reserve(2))
            .then_expect_events(vec![reserved(2)]);
        Given::with(RolePolicy::default())
            .given(vec![created(1), reserved(1), released.clone()])
            .when(reserve(1))
            .then_expect_error(InviteError::ReservationReleased);
        Given::with(RolePolicy::default())
            .given(vec![created(1), reserved(1), released])
            .when(InviteCommand::ConfirmSeat {
                reservation_id: id(1),
                at: t0(),
            })
            .then_expect_error(InviteError::ReservationReleased);
    }

    #[test]
    fn confirming_records_one_use_even_after_expiry() {
        let later = t0() + Duration::hours(2);
        let used = InviteEvent::Used {
            invite_id: Uuid::nil(),
            inviter_id: "admin-1".into(),
            user_id: "ba-1".into(),
            user_email: "u1@x.com".into(),
            role_before: "user".into(),
            role_after: "admin".into(),
            new_account: true,
            at: later,
            reservation_id: Some(id(1)),
        };
        Given::with(RolePolicy::default())
            .given(vec![created(1), reserved(1)])
            .when(InviteCommand::ConfirmSeat {
                reservation_id: id(1),
                at: later,
            })
            .then_expect_events(vec![used.clone()]);
        Given::with(RolePolicy::default())
            .given(vec![created(1), reserved(1), used.clone()])
            .when(InviteCommand::ConfirmSeat {
                reservation_id: id(1),
                at: later,
            })
            .then_expect_events(vec![]);
        Given::with(RolePolicy::default())
            .given(vec![created(1), reserved(1), used])
            .when(InviteCommand::ReleaseSeat {
                reservation_id: id(1),
                reason: "user_absent".into(),
                at: later,
            })
            .then_expect_events(vec![]);
    }
}
