//! Seats for sign-ups: `reserve` holds one in the invite's aggregate before
//! Better Auth writes the user (its `user.create.before` hook, inside the
//! sign-up's transaction), `confirm` turns it into a use once the write
//! committed (`create.after`), and a seat never confirmed is settled by the
//! ledger (`reactors::companion`): it asks the plugin whether the user exists,
//! then confirms or releases it, in a recorded event either way.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::people::{route_roles, Checked, CompanionUser};
use super::Caller;
use crate::commands::client::ClientInfo;
use crate::commands::invites as ledger_invites;
use crate::commands::refusals::{self, Attempt, Tried};
use crate::context::Context;
use crate::domain::invite::{InviteCommand, InviteError};
use crate::domain::user::UserCommand;
use crate::error::ServiceError;
use crate::ledger::{stored, Guard, JointError, LedgerError, Position};

/// `POST /api/companion/invite/reserve`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReserveRequest {
    /// The invite the sign-up holds (its cookie); `null` without one.
    pub token: Option<String>,
    /// The user Better Auth is about to write, with the id it will have.
    pub user: CompanionUser,
}

/// A held seat.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reserved {
    /// The same for a retried reserve of the same user and invite.
    pub reservation_id: Uuid,
    /// The role the user gets once the seat is confirmed.
    pub role: String,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub until: DateTime<Utc>,
    /// The reservation's log position (`xid/global`); `null` for a retried reserve.
    pub position: Option<String>,
    pub redirect_to_after_upgrade: String,
}

/// One reservation per user and invite, so a retried reserve holds one seat.
fn reservation_id(invite_hash: &str, user_id: &str) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x9c4e_2f71_0b3a_4d6e_8f15_c2a7_93d0_5e41);
    Uuid::new_v5(&NAMESPACE, format!("{invite_hash}\n{user_id}").as_bytes())
}

pub async fn reserve(
    app: &Context,
    caller: Caller,
    request: ReserveRequest,
) -> Result<Reserved, ServiceError> {
    let user = request.user.checked(app)?;
    let Some(token) = request.token else {
        return Err(ServiceError::Forbidden {
            code: "INVITE_REQUIRED",
            message: "Sign-up needs an invite".into(),
        });
    };
    if app.settings.email_domains.has_rules() {
        ledger_invites::check_public_invite_domain(app, &token, &user.email).await?;
    }
    // The invite's role and pages do not change: one lookup serves the answer.
    let row = ledger_invites::find(app, &token)
        .await?
        .ok_or(InviteError::NotFound)?;
    let id = row.token_hash.clone();
    route_roles(app, caller, &user.id).await?;
    // A retry holds the same seat; a user whose seat was given back gets a new one.
    let mut reservation = reservation_id(&id, &user.id);
    let (mut result, mut until) = hold(app, caller, &id, &user, reservation).await;
    if let Err(LedgerError::Domain(InviteError::ReservationReleased)) = &result {
        reservation = Uuid::new_v4();
        (result, until) = hold(app, caller, &id, &user, reservation).await;
    }
    let position = match ledger_invites::expire_if_needed(app, &id, result).await {
        Ok(position) => position,
        Err(refused) => {
            let tried = Tried {
                user_id: Some(&user.id),
                email: Some(&user.email),
                client: &ClientInfo::default(),
            };
            refusals::record(app, &id, Attempt::Use, &refused, tried).await;
            return Err(refused);
        }
    };
    // A held seat shows in no read model: nothing to wait for. A retried
    // reserve tells the seat's own time.
    let until = match position {
        Some(_) => until,
        None => app
            .ledger
            .load_invite(&id)
            .await?
            .seat(&reservation)
            .map_or(until, |seat| seat.until),
    };
    Ok(Reserved {
        reservation_id: reservation,
        role: row.role,
        until,
        position: position.map(|p| p.to_string()),
        redirect_to_after_upgrade: row.redirect_to_after_upgrade,
    })
}

/// Holds a seat of the invite `id` for `user` under `reservation`, noting
/// first which key and invite the reservation belongs to; and until when.
async fn hold(
    app: &Context,
    caller: Caller,
    id: &str,
    user: &Checked,
    reservation: Uuid,
) -> (
    Result<Option<Position>, LedgerError<InviteError>>,
    DateTime<Utc>,
) {
    let at = app.clock.now();
    let until =
        at + Duration::milliseconds(app.settings.config.companion_reservation_ttl_ms as i64);
    let noted = sqlx::query(
        "INSERT INTO companion_reservation
            (reservation_id, invite_hash, api_key_id, user_id, role_before)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (reservation_id) DO NOTHING",
    )
    .bind(reservation)
    .bind(id)
    .bind(caller.key_id)
    .bind(&user.id)
    .bind(&user.role)
    .execute(&app.pool)
    .await;
    if let Err(error) = noted {
        return (Err(LedgerError::Store(error.to_string())), until);
    }
    let command = InviteCommand::Reserve {
        user: crate::domain::invite::Actor {
            user_id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role.clone(),
        },
        reservation_id: reservation,
        until,
        at,
    };
    (
        app.ledger.execute(id, command, &Guard::default()).await,
        until,
    )
}

/// `POST /api/companion/invite/confirm`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmRequest {
    pub reservation_id: Uuid,
    /// The user as Better Auth wrote them (the reserved id): with it, the
    /// ledger records the person from it instead of reading the seat back.
    #[serde(default)]
    pub user: Option<CompanionUser>,
}

/// A confirmed seat: the use and the role it gave.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Confirmed {
    pub user_id: String,
    pub role: String,
    /// The use's log position (`xid/global`), the same on a repeated confirm.
    pub position: String,
}

/// Turns the seat into a use, and records the new Better Auth user as a
/// person, in one append. Confirming again answers the same.
pub async fn confirm(
    app: &Context,
    caller: Caller,
    request: ConfirmRequest,
) -> Result<Confirmed, ServiceError> {
    let found: Option<Reservation> = sqlx::query_as(
        "SELECT r.invite_hash, r.api_key_id, r.user_id, r.role_before, i.role
           FROM companion_reservation r LEFT JOIN invite i ON i.token_hash = r.invite_hash
          WHERE r.reservation_id = $1",
    )
    .bind(request.reservation_id)
    .fetch_optional(&app.pool)
    .await?;
    let Some(Reservation {
        invite_hash: hash,
        user_id,
        role_before,
        role,
        ..
    }) = found.filter(|f| f.api_key_id == caller.key_id)
    else {
        return Err(InviteError::ReservationNotFound.into());
    };
    let user = request.user.as_ref().map(|u| u.checked(app)).transpose()?;
    match (user, role_before, role) {
        (Some(user), Some(role_before), Some(role)) if user.id == user_id => {
            let introduce = UserCommand::Introduce {
                email: user.email,
                name: user.name,
                role: role_before,
                at: app.clock.now(),
            };
            let seat = Named {
                user_id,
                role,
                introduce,
            };
            append_use(app, &hash, request.reservation_id, seat).await
        }
        _ => confirm_seat(app, &hash, request.reservation_id).await,
    }
}

/// A reservation as `companion_reservation` notes it, with its invite's role.
#[derive(sqlx::FromRow)]
struct Reservation {
    invite_hash: String,
    api_key_id: Uuid,
    user_id: String,
    role_before: Option<String>,
    role: Option<String>,
}

/// A seat's user and the invite's role, known without loading the invite.
struct Named {
    user_id: String,
    role: String,
    introduce: UserCommand,
}

/// Confirms the seat `reservation` of the invite `hash` (its aggregate id).
pub async fn confirm_seat(
    app: &Context,
    hash: &str,
    reservation: Uuid,
) -> Result<Confirmed, ServiceError> {
    let invite = app.ledger.load_invite(hash).await?;
    let role = invite
        .terms()
        .map(|t| t.role.clone())
        .ok_or(InviteError::NotFound)?;
    let Some(seat) = invite.seat(&reservation).cloned() else {
        return match invite.settled(&reservation) {
            Some(true) => confirmed_before(app, hash, reservation, role).await,
            Some(false) => Err(InviteError::ReservationReleased.into()),
            None => Err(InviteError::ReservationNotFound.into()),
        };
    };
    let introduce = UserCommand::Introduce {
        email: seat.user_email.clone(),
        name: seat.user_name.clone(),
        role: seat.role_before.clone(),
        at: app.clock.now(),
    };
    let named = Named {
        user_id: seat.user_id,
        role,
        introduce,
    };
    append_use(app, hash, reservation, named).await
}

/// The seat's use and its user's introduction, appended together.
async fn append_use(
    app: &Context,
    hash: &str,
    reservation: Uuid,
    seat: Named,
) -> Result<Confirmed, ServiceError> {
    let confirm = InviteCommand::ConfirmSeat {
        reservation_id: reservation,
        at: app.clock.now(),
    };
    let Named {
        user_id,
        role,
        introduce,
    } = seat;
    match app
        .ledger
        .register_with_invite(hash, confirm, &user_id, introduce, &Guard::default())
        .await
    {
        Ok(position) => {
            app.written(Some(position));
            Ok(Confirmed {
                user_id,
                role,
                position: position.to_string(),
            })
        }
        Err(error) => {
            // Settled meanwhile (the reactor, or a twin confirm): say what it became.
            let now = app.ledger.load_invite(hash).await?;
            match (now.settled(&reservation), error) {
                (Some(true), _) => confirmed_before(app, hash, reservation, role).await,
                (Some(false), _) => Err(InviteError::ReservationReleased.into()),
                (None, JointError::Invite(error)) => Err(error.into()),
                (None, JointError::User(error)) => Err(error.into()),
            }
        }
    }
}

/// The answer of a confirm that happened already: the position of its use.
async fn confirmed_before(
    app: &Context,
    hash: &str,
    reservation: Uuid,
    role: String,
) -> Result<Confirmed, ServiceError> {
    let found: Option<(i64, i64, Option<String>)> = sqlx::query_as(&format!(
        "SELECT transaction_id::text::bigint, global_position, {user_id} FROM events
          WHERE aggregate_type = 'invite' AND aggregate_id = $1 AND event_type = 'Used'
            AND {reservation_id} = $2",
        user_id = stored::field_sql(None, stored::USED_USER_ID),
        reservation_id = stored::field_sql(None, stored::USED_RESERVATION_ID),
    ))
    .bind(hash)
    .bind(reservation.to_string())
    .fetch_optional(&app.pool)
    .await?;
    let (xid, global, user_id) =
        found.ok_or_else(|| anyhow::anyhow!("a confirmed seat has no use in the log"))?;
    let user_id = user_id.unwrap_or_default();
    Ok(Confirmed {
        user_id,
        role,
        position: Position { xid, global }.to_string(),
    })
}

/// Gives the seat back, saying why (`user_absent`, `unanswered`).
pub async fn release_seat(
    app: &Context,
    hash: &str,
    reservation: Uuid,
    reason: &str,
) -> Result<Option<Position>, ServiceError> {
    let command = InviteCommand::ReleaseSeat {
        reservation_id: reservation,
        reason: reason.to_string(),
        at: app.clock.now(),
    };
    let position = app.ledger.execute(hash, command, &Guard::default()).await?;
    app.written(position);
    Ok(position)
}
