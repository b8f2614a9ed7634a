//! The ledger's side effects toward a Better Auth server's plugin (companion
//! mode, docs/companion-protocol.md), on the reactors' delivery machinery
//! (planned with the checkpoint, performed at least once, retried with backoff):
//!
//! - `companion-seats` settles each seat held for a sign-up once its time is
//!   up: it asks the plugin whether the user exists (`user.exists`), then
//!   confirms the use or releases the seat, in a recorded event. A plugin that
//!   never answers is asked a bounded number of times; then the seat is
//!   released (`unanswered`), so a seat is never held for ever.
//! - `companion-roles` delivers every role the ledger decides for a Better
//!   Auth user (`role.decided`, ordered per user), signed, so the role reaches
//!   Better Auth's user row even if the plugin died before writing it.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Delivery, Planned, Reactor};
use crate::commands::companion::{callback, seats};
use crate::context::Context;
use crate::domain::invite::{InviteError, InviteEvent};
use crate::domain::user::UserEvent;
use crate::error::ServiceError;
use crate::ledger::{LedgerEvent, Position, RecordedEvent};

/// Times the plugin is asked about a seat before it is released unanswered.
const SEAT_ASKS: u32 = 5;

fn client() -> anyhow::Result<reqwest::Client> {
    // A redirect is an answer to fix, not to follow: it fails the attempt.
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

fn attempt_timeout(app: &Context) -> Duration {
    Duration::from_millis(app.settings.config.delivery_timeout_ms)
}

pub struct SeatSettler {
    app: Context,
    client: reqwest::Client,
}

impl SeatSettler {
    pub fn new(app: Context) -> anyhow::Result<Self> {
        Ok(SeatSettler {
            client: client()?,
            app,
        })
    }

    /// Asks the plugin whether the user exists; an error when it gave no answer.
    async fn ask(&self, reservation: Uuid, user_id: &str) -> anyhow::Result<bool> {
        let key: Option<Uuid> = sqlx::query_scalar(
            "SELECT api_key_id FROM companion_reservation WHERE reservation_id = $1",
        )
        .bind(reservation)
        .fetch_optional(&self.app.pool)
        .await?;
        let key = key.ok_or_else(|| anyhow::anyhow!("no key holds reservation {reservation}"))?;
        let body = json!({ "type": "user.exists", "userId": user_id });
        let answer = callback::call(
            &self.app,
            &self.client,
            key,
            &body,
            attempt_timeout(&self.app),
        )
        .await?;
        answer["exists"]
            .as_bool()
            .ok_or_else(|| anyhow::anyhow!("the plugin's answer has no boolean `exists`: {answer}"))
    }
}

#[async_trait]
impl Reactor for SeatSettler {
    fn name(&self) -> &'static str {
        "companion-seats"
    }

    fn ordered(&self) -> bool {
        false
    }

    async fn plan(
        &self,
        _conn: &mut PgConnection,
        event: &RecordedEvent,
    ) -> anyhow::Result<Option<Planned>> {
        let LedgerEvent::Invite(InviteEvent::SeatReserved {
            reservation_id,
            user_id,
            ..
        }) = &event.event
        else {
            return Ok(None);
        };
        Ok(Some(Planned {
            key: event.aggregate_id.clone(),
            payload: json!({ "reservationId": reservation_id, "userId": user_id }),
        }))
    }

    /// The seat's hold, counted from when the ledger recorded it (the
    /// database's clock, which the delivery queue runs on).
    fn not_before(&self, event: &RecordedEvent) -> Option<DateTime<Utc>> {
        match &event.event {
            LedgerEvent::Invite(InviteEvent::SeatReserved { until, at, .. }) => {
                Some(event.recorded_at + (*until - *at))
            }
            _ => None,
        }
    }

    async fn deliver(&self, delivery: &Delivery) -> anyhow::Result<()> {
        let reservation: Uuid = serde_json::from_value(delivery.payload["reservationId"].clone())?;
        let user_id = delivery.payload["userId"].as_str().unwrap_or_default();
        let hash = &delivery.key;
        let invite = self.app.ledger.load_invite(hash).await?;
        if invite.seat(&reservation).is_none() {
            return Ok(()); // confirmed or released already
        }
        let asks = SEAT_ASKS.min(self.app.settings.config.delivery_max_attempts);
        match self.ask(reservation, user_id).await {
            Ok(true) => match seats::confirm_seat(&self.app, hash, reservation).await {
                Ok(_) | Err(ServiceError::Invite(InviteError::ReservationReleased)) => Ok(()),
                Err(error) => Err(anyhow::anyhow!("confirming: {error}")),
            },
            Ok(false) => release(&self.app, hash, reservation, "user_absent").await,
            Err(error) if delivery.attempt as u32 >= asks => {
                tracing::warn!(%reservation, error = format!("{error:#}"), "the plugin never said whether the user exists: the seat is released");
                release(&self.app, hash, reservation, "unanswered").await
            }
            Err(error) => Err(error),
        }
    }
}

async fn release(app: &Context, hash: &str, reservation: Uuid, reason: &str) -> anyhow::Result<()> {
    seats::release_seat(app, hash, reservation, reason)
        .await
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("releasing: {e}"))
}

pub struct RoleDelivery {
    app: Context,
    client: reqwest::Client,
}

impl RoleDelivery {
    pub fn new(app: Context) -> anyhow::Result<Self> {
        Ok(RoleDelivery {
            client: client()?,
            app,
        })
    }
}

#[async_trait]
impl Reactor for RoleDelivery {
    fn name(&self) -> &'static str {
        "companion-roles"
    }

    /// One user's roles arrive in the order the ledger decided them.
    fn ordered(&self) -> bool {
        true
    }

    async fn plan(
        &self,
        conn: &mut PgConnection,
        event: &RecordedEvent,
    ) -> anyhow::Result<Option<Planned>> {
        let (user_id, role) = match &event.event {
            LedgerEvent::Invite(InviteEvent::Used {
                user_id,
                role_after,
                ..
            }) => (user_id.clone(), role_after.clone()),
            LedgerEvent::User(UserEvent::RoleSet { role, .. }) => {
                (event.aggregate_id.clone(), role.clone())
            }
            _ => return Ok(None),
        };
        let key: Option<Uuid> =
            sqlx::query_scalar("SELECT api_key_id FROM companion_person WHERE user_id = $1")
                .bind(&user_id)
                .fetch_optional(&mut *conn)
                .await?;
        Ok(key.map(|key| Planned {
            key: user_id.clone(),
            payload: json!({ "apiKeyId": key, "userId": user_id, "role": role }),
        }))
    }

    async fn deliver(&self, delivery: &Delivery) -> anyhow::Result<()> {
        let key: Uuid = serde_json::from_value(delivery.payload["apiKeyId"].clone())?;
        let position = Position {
            xid: delivery.event_xid,
            global: delivery.event_position,
        };
        let body = json!({
            "type": "role.decided",
            "userId": delivery.payload["userId"],
            "role": delivery.payload["role"],
            "position": position.to_string(),
            "sentAt": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        });
        callback::call(
            &self.app,
            &self.client,
            key,
            &body,
            attempt_timeout(&self.app),
        )
        .await?;
        Ok(())
    }
}
