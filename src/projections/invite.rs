//! The `invite` view: the current state of every invite.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::model::{Key, Personal, ReadModel, Rows};
use super::row::{SqlType, SqlValue};
use crate::domain::closing;
use crate::domain::invite::{InviteEvent, UseLimit};
use crate::ledger::{LedgerEvent, RecordedEvent};
use crate::read_model_row;

/// Where an invite stands, as the view stores it. `Pending` past `expires_at`
/// is expired already: see `InviteRow::status_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InviteStatus {
    Pending,
    UsedUp,
    Cancelled,
    Rejected,
    Expired,
}

impl InviteStatus {
    pub const ALL: [InviteStatus; 5] = [
        InviteStatus::Pending,
        InviteStatus::UsedUp,
        InviteStatus::Cancelled,
        InviteStatus::Rejected,
        InviteStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InviteStatus::Pending => "pending",
            InviteStatus::UsedUp => "used_up",
            InviteStatus::Cancelled => "cancelled",
            InviteStatus::Rejected => "rejected",
            InviteStatus::Expired => "expired",
        }
    }
}

impl std::fmt::Display for InviteStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for InviteStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InviteStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = InviteStatus::ALL.iter().map(|s| s.as_str()).collect();
                format!("`{s}` is not an invite status ({})", known.join(", "))
            })
    }
}

// Stored as text: the column stays readable with plain SQL.
impl sqlx::Type<sqlx::Postgres> for InviteStatus {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <&str as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for InviteStatus {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(<&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?.parse()?)
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for InviteStatus {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
    }
}

impl SqlType for InviteStatus {
    const SQL_TYPE: &'static str = "text";
}

impl SqlValue for InviteStatus {
    fn write_text(&self, out: &mut String) -> bool {
        out.push_str(self.as_str());
        true
    }
}

read_model_row! {
    /// One row of the `invite` view (projections/invite.sql), as the audit API shows it.
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct InviteRow in "invite" keyed by token_hash: String {
        pub id: Uuid,
        /// Never shown: a short code's hash is easily reversed.
        #[serde(skip)]
        pub token_hash: String,
        pub token_type: String,
        pub role: String,
        pub email: Option<String>,
        /// The invitee's user id, to find their rows when they are erased.
        #[serde(skip)]
        pub invitee_id: Option<String>,
        pub new_account: bool,
        pub inviter_id: String,
        pub inviter_name: String,
        pub inviter_email: String,
        pub max_uses: i32,
        /// Unlimited uses (better-invite's `infinityMaxUses`); `maxUses` is then 1.
        pub infinity_max_uses: bool,
        pub uses: i32,
        pub activations: i32,
        pub status: InviteStatus,
        pub share_inviter_name: bool,
        pub redirect_to_sign_up: String,
        pub redirect_to_sign_in: String,
        pub redirect_to_after_upgrade: String,
        pub sender_response_redirect: String,
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub created_at: DateTime<Utc>,
        /// When the ledger recorded the creation: `as_of` compares with this.
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub recorded_at: DateTime<Utc>,
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub expires_at: DateTime<Utc>,
        #[serde(serialize_with = "crate::json_time::option::serialize")]
        pub last_used_at: Option<DateTime<Utc>>,
        #[serde(serialize_with = "crate::json_time::option::serialize")]
        pub closed_at: Option<DateTime<Utc>>,
        pub closed_by: Option<String>,
        #[serde(serialize_with = "crate::json_time::serialize")]
        pub updated_at: DateTime<Utc>,
        /// The global position of the last event that changed this invite.
        #[serde(rename = "lastGlobalPosition")]
        pub last_position: i64,
    }
}

impl InviteRow {
    /// The status as of `now`: an invite past its time is expired even before the
    /// `Expired` event is written.
    /// The invite's use limit, as the domain reads it.
    pub fn use_limit(&self) -> UseLimit {
        UseLimit {
            max_uses: self.max_uses as u32,
            unlimited: self.infinity_max_uses,
        }
    }

    /// Seats left, as answers show them: `None` when there is no limit.
    pub fn uses_left(&self) -> Option<i32> {
        self.use_limit().left(self.uses as u32).map(|n| n as i32)
    }

    pub fn status_at(&self, now: DateTime<Utc>) -> InviteStatus {
        if self.status == InviteStatus::Pending && closing::is_expired(self.expires_at, now) {
            InviteStatus::Expired
        } else {
            self.status
        }
    }
}

pub struct InviteView;

impl ReadModel for InviteView {
    type Row = InviteRow;
    const NAME: &'static str = "invite";
    const SCHEMA: &'static str = include_str!("../../projections/invite.sql");
    const PERSONAL: &'static [Personal] = &[
        Personal {
            owner: "inviter_id",
            columns: &["inviter_name", "inviter_email"],
        },
        Personal {
            owner: "invitee_id",
            columns: &["email"],
        },
    ];

    fn keys(recorded: &RecordedEvent) -> Vec<Key<Self>> {
        match &recorded.event {
            LedgerEvent::Invite(InviteEvent::Created { .. }) => vec![],
            LedgerEvent::Invite(_) => vec![recorded.aggregate_id.clone()],
            LedgerEvent::User(_) | LedgerEvent::Organization(_) => vec![],
        }
    }

    fn evolve(rows: &mut Rows<InviteRow>, recorded: &RecordedEvent) {
        let LedgerEvent::Invite(event) = &recorded.event else {
            return;
        };
        let hash = &recorded.aggregate_id;
        let position = recorded.position.global;
        if let InviteEvent::Created {
            terms,
            inviter_id,
            inviter_name,
            inviter_email,
            at,
            ..
        } = event
        {
            rows.insert(InviteRow {
                id: terms.invite_id,
                token_hash: hash.clone(),
                token_type: terms.token_type.as_str().to_string(),
                role: terms.role.clone(),
                email: terms.email.clone(),
                invitee_id: terms.invitee_id.clone(),
                new_account: terms.new_account,
                inviter_id: inviter_id.clone(),
                inviter_name: inviter_name.clone(),
                inviter_email: inviter_email.clone(),
                max_uses: terms.max_uses as i32,
                infinity_max_uses: terms.infinity_max_uses,
                uses: 0,
                activations: 0,
                status: InviteStatus::Pending,
                share_inviter_name: terms.share_inviter_name,
                redirect_to_sign_up: terms.redirect_to_sign_up.clone(),
                redirect_to_sign_in: terms.redirect_to_sign_in.clone(),
                redirect_to_after_upgrade: terms.redirect_to_after_upgrade.clone(),
                sender_response_redirect: terms.sender_response_redirect.clone(),
                created_at: *at,
                recorded_at: recorded.recorded_at,
                expires_at: terms.expires_at,
                last_used_at: None,
                closed_at: None,
                closed_by: None,
                updated_at: *at,
                last_position: position,
            });
            return;
        }
        // A resend, a refusal or a seat held for a sign-up (its `Used` counts
        // when it commits) changes nothing an invite shows.
        if let InviteEvent::Resent { .. }
        | InviteEvent::Refused { .. }
        | InviteEvent::SeatReserved { .. }
        | InviteEvent::SeatReleased { .. } = event
        {
            return;
        }
        // An event for an unknown invite changes nothing.
        let Some(row) = rows.get_mut(hash) else {
            return;
        };
        row.last_position = position;
        match event {
            InviteEvent::Created { .. }
            | InviteEvent::Resent { .. }
            | InviteEvent::Refused { .. }
            | InviteEvent::SeatReserved { .. }
            | InviteEvent::SeatReleased { .. } => {
                unreachable!("handled above")
            }
            InviteEvent::Activated { at, .. } => {
                row.activations += 1;
                row.updated_at = *at;
            }
            InviteEvent::Used { at, .. } => {
                row.uses += 1;
                if row.use_limit().used_up(row.uses as u32) {
                    row.status = InviteStatus::UsedUp;
                }
                row.last_used_at = Some(*at);
                row.updated_at = *at;
            }
            InviteEvent::Cancelled { by_user_id, at } => {
                close(row, InviteStatus::Cancelled, Some(by_user_id), at)
            }
            InviteEvent::Rejected { by_user_id, at } => {
                close(row, InviteStatus::Rejected, Some(by_user_id), at)
            }
            InviteEvent::Expired { at } => close(row, InviteStatus::Expired, None, at),
        }
    }
}

fn close(row: &mut InviteRow, status: InviteStatus, by: Option<&String>, at: &DateTime<Utc>) {
    row.status = status;
    row.closed_by = by.cloned();
    row.closed_at = Some(*at);
    row.updated_at = *at;
}
