//! One recorded event as every reader outside the service sees it (the audit
//! API, webhooks, NATS): its place and time, and its data in camelCase with
//! secrets left out. An invite's events are named by the invite's id, as every
//! other answer names it: the log keys them by the hash of the token, which is
//! no name for a reader (and, with a weak key, a lead to the token).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{stored, LedgerEvent, RecordedEvent};
use crate::domain::invite::InviteEvent;

/// Every event type the log holds, for checking the feed's `type` filter.
pub const EVENT_TYPES: &[&str] = &[
    "Created",
    "Activated",
    "Used",
    "Cancelled",
    "Rejected",
    "Expired",
    "Resent",
    "Registered",
    "RoleSet",
    "Refused",
    "Erased",
    "Introduced",
    "SeatReserved",
    "SeatReleased",
    "PasswordResetRequested",
    "PasswordSet",
    "SessionsRevoked",
    "ProfileUpdated",
    "VerificationEmailRequested",
    "EmailVerified",
    "EmailChanged",
    "Banned",
    "Unbanned",
    "OrganizationCreated",
    "InvitationAllowed",
    "InvitationCreated",
    "InvitationResent",
    "InvitationAccepted",
    "InvitationRejected",
    "InvitationCanceled",
    "InvitationExpired",
    "MemberAdded",
    "MemberRoleChanged",
    "MemberRemoved",
    "MemberLeft",
];

/// One event of the log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// The place in the global order, `transaction/position`: pass it as `after`
    /// (or `Last-Event-ID`) to continue right after this event.
    pub position: String,
    pub global_position: i64,
    /// `invite`, `user`, or `organization`.
    pub aggregate_type: String,
    /// The invite's id, the user's id, or Better Auth's organization id.
    pub aggregate_id: String,
    pub sequence: i64,
    /// The event's type: one of `EVENT_TYPES`.
    #[serde(rename = "type")]
    #[schema(schema_with = event_type_schema)]
    pub event_type: String,
    /// When the ledger recorded it (what `as_of` compares with).
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    /// The event's fields, in camelCase; secrets (password hashes, sealed tokens)
    /// are left out.
    #[schema(value_type = Object)]
    pub data: Value,
}

/// `type` in the OpenAPI document: a string that is one of `EVENT_TYPES`.
fn event_type_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .description(Some(
            "The event's type: invites' `Created`, `Activated`, `Used`, `Cancelled`, \
             `Rejected`, `Expired`, `Resent`, `Refused`, `SeatReserved`, `SeatReleased`; users' `Registered`, `Introduced`, `RoleSet`, `Erased`, `PasswordResetRequested`, `PasswordSet`, `SessionsRevoked`, `ProfileUpdated`, `VerificationEmailRequested`, `EmailVerified`, `EmailChanged`, `Banned`, `Unbanned`; organizations' `OrganizationCreated`, `InvitationAllowed`, `InvitationCreated`, `InvitationResent`, `InvitationAccepted`, `InvitationRejected`, `InvitationCanceled`, `InvitationExpired`, `MemberAdded`, `MemberRoleChanged`, `MemberRemoved`, `MemberLeft`",
        ))
        .enum_values(Some(EVENT_TYPES.iter().copied()))
        .build()
}

/// The views of these events, their invites named by id (looked up in one
/// query for the invites whose id the events themselves do not carry).
pub async fn views(
    conn: &mut PgConnection,
    events: &[RecordedEvent],
) -> sqlx::Result<Vec<EventView>> {
    let ids = invite_ids(conn, events).await?;
    Ok(events
        .iter()
        .map(|recorded| EventView::named(recorded, &ids))
        .collect())
}

/// The invite id of each invite aggregate among `events`, by its key (the
/// token's hash): from a `Created` or `Used` among them, else from the log's
/// `Created` of that invite.
async fn invite_ids(
    conn: &mut PgConnection,
    events: &[RecordedEvent],
) -> sqlx::Result<HashMap<String, Uuid>> {
    let mut ids = HashMap::new();
    for recorded in events {
        if let LedgerEvent::Invite(
            InviteEvent::Created {
                terms: crate::domain::invite::InviteTerms { invite_id, .. },
                ..
            }
            | InviteEvent::Used { invite_id, .. },
        ) = &recorded.event
        {
            ids.insert(recorded.aggregate_id.clone(), *invite_id);
        }
    }
    let mut missing: Vec<&str> = events
        .iter()
        .filter(|e| matches!(e.event, LedgerEvent::Invite(_)))
        .map(|e| e.aggregate_id.as_str())
        .filter(|hash| !ids.contains_key(*hash))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return Ok(ids);
    }
    let found: Vec<(String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT aggregate_id, {} FROM events
          WHERE aggregate_type = 'invite' AND aggregate_id = ANY($1)
            AND event_type = 'Created'",
        stored::field_sql(None, stored::CREATED_INVITE_ID)
    ))
    .bind(&missing)
    .persistent(false)
    .fetch_all(conn)
    .await?;
    for (hash, id) in found {
        if let Some(id) = id.and_then(|id| id.parse().ok()) {
            ids.insert(hash, id);
        }
    }
    Ok(ids)
}

impl EventView {
    /// The view of one event; `ids` names its invite (the hash stays only
    /// where no `Created` was found, which a sound log never lacks).
    fn named(recorded: &RecordedEvent, ids: &HashMap<String, Uuid>) -> Self {
        let (aggregate_type, event_type, tagged) = recorded.event.public_json();
        // Events serialize as `{"Type": {fields}}`: the fields are the data,
        // named in camelCase like every other field of our answers.
        let data = match tagged {
            Value::Object(map) => map.into_iter().next().map(|(_, v)| v).unwrap_or_default(),
            other => other,
        };
        let data = camel_case_keys(data);
        EventView {
            position: recorded.position.to_string(),
            global_position: recorded.position.global,
            aggregate_type: aggregate_type.to_string(),
            aggregate_id: match (&recorded.event, ids.get(&recorded.aggregate_id)) {
                (LedgerEvent::Invite(_), Some(id)) => id.to_string(),
                _ => recorded.aggregate_id.clone(),
            },
            sequence: recorded.sequence,
            event_type,
            recorded_at: recorded.recorded_at,
            data,
        }
    }
}

/// `value` with every object key in camelCase (events are stored with the
/// Rust field names, in snake_case).
fn camel_case_keys(value: Value) -> Value {
    use heck::ToLowerCamelCase;
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.to_lower_camel_case(), camel_case_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case_keys).collect()),
        other => other,
    }
}
